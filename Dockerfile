# The function image (`nox -s build` runs `sam build`, which builds this with the classic builder).
# Layers go from least to most often changed, so a code change rebuilds and re-pushes only the last one:
#   base → ENV → model assets (COPY --from the asset image) → locked runtime deps → code → CMD.
# Hermetic: no step uses the network. The context (build/function/) is staged on the host by
# lambdakit.images: deps/ (pip --target for the Lambda platform) and code/, each holding var/task/... with
# every folder and file at mtime 0 and copied to /, so the same input gives the same layer digest, and a
# copy of this file (template.yaml's Metadata points at it), without the asset stage's two lines when the
# snapshot found nothing to ship. The function's own settings (its environment variables) are template.yaml's.
ARG BASE_IMAGE=public.ecr.aws/lambda/python:3.13
# Set by `nox -s build`: <project>-assets at its content tag.
ARG ASSET_IMAGE
# The classic builder does not expand variables in `COPY --from`; a named stage does the same job.
FROM ${ASSET_IMAGE} AS assets

FROM ${BASE_IMAGE}
# The kit's ENV block (`python -m lambdakit env --offline`): one cache root for every library, offline switches.
ENV PYTHONDONTWRITEBYTECODE=1 \
    XDG_CACHE_HOME=/cache \
    HF_HOME=/cache/huggingface \
    HF_HUB_CACHE=/cache/huggingface/hub \
    TORCH_HOME=/cache/torch \
    NLTK_DATA=/cache/nltk_data \
    GENSIM_DATA_DIR=/cache/gensim-data \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_DATASETS_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1
COPY --from=assets / /
COPY deps/ /
COPY code/ /
# `nox -s build` sets CMD to [tool.lambdakit] handler in its staged copy (build/function/Dockerfile).
CMD ["inference.handler.lambda_handler"]
