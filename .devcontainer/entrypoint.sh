#!/bin/sh
# Dev Container entrypoint, run as root at every container start; then it runs CMD (sleep infinity).
#
# Docker outside of Docker: devcontainer.json mounts the host's socket at /var/run/docker-host.sock. The user
# gets access the way the socket's owner allows: a group with the socket's gid (Linux hosts), or, when the
# socket belongs to root's group (Docker Desktop), a root-run socat relay that the user may open.
# The cache volume: a uid change (devcontainer CLI's updateRemoteUserUID) must not leave /cache unwritable.
set -eu

user="${LAMBDAKIT_DEVCONTAINER_USER:-vscode}"
host_socket=/var/run/docker-host.sock
socket=/var/run/docker.sock

if [ -S "$host_socket" ]; then
    rm -f "$socket"
    gid="$(stat -c %g "$host_socket")"
    if [ "$gid" != 0 ]; then
        group="$(getent group "$gid" | cut -d: -f1)"
        if [ -z "$group" ]; then
            group=docker-host
            groupadd --gid "$gid" "$group"
        fi
        usermod -aG "$group" "$user"
        ln -s "$host_socket" "$socket"
    else
        socat "UNIX-LISTEN:$socket,fork,mode=660,user=$user" "UNIX-CONNECT:$host_socket" &
    fi
fi

if [ -d /cache ] && [ "$(stat -c %u /cache)" != "$(id -u "$user")" ]; then
    chown -R "$user:" /cache
fi

exec "$@"
