# The function image (`nox -s build` runs `sam build`, which builds this with the classic builder).
# Layers go from least to most often changed, so a code change rebuilds and re-pushes only the last one:
#   base → ENV → model assets (COPY --from the asset image) → locked runtime deps → code → precision → CMD.
# Hermetic: no step uses the network. The context (build/function/) is staged on the host by
# lambdakit.images: deps/ (pip --target for the Lambda platform) and code/, each holding var/task/... with
# every folder and file at mtime 0 and copied to /, so the same input gives the same layer digest.
ARG BASE_IMAGE=public.ecr.aws/lambda/python:3.13
ARG ASSET_IMAGE=triage-assets:latest
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
# fp32 or int8: which export under /cache the handler loads (its asset image must hold that export).
# Declared after the COPY layers so that choosing int8 changes no layer, only the image's config.
ARG INFERENCE_PRECISION=fp32
ENV INFERENCE_PRECISION=${INFERENCE_PRECISION}
CMD ["inference.handler.lambda_handler"]
