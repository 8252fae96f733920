#!/usr/bin/env bash
# Make a Docker engine reachable for the code grader's tests: install docker.io and debootstrap
# from Debian when missing, and start dockerd without networking (containers never get a network).
set -euo pipefail
if docker info >/dev/null 2>&1; then echo "docker: engine reachable"; exit 0; fi
if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  echo "docker: installing docker.io and debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq docker.io debootstrap >/dev/null
fi
echo "docker: starting dockerd"
setsid nohup dockerd --bridge=none --iptables=false >/tmp/aipo-dockerd.log 2>&1 </dev/null &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then echo "docker: engine reachable"; exit 0; fi
  sleep 1
done
echo "docker: engine did not start; see /tmp/aipo-dockerd.log" >&2
tail -20 /tmp/aipo-dockerd.log >&2 || true
exit 1
