#!/usr/bin/env bash
# Debian's reference tools: prometheus (remote-write client, PromQL
# reference, promtool), prometheus-node-exporter, prometheus-alertmanager
# (alertmanager and amtool, for the rules role's notifications) and kcat (librdkafka).
# Installed with apt-get only when a command is missing.
set -euo pipefail
source "$(dirname "$0")/common.sh"

need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v promtool >/dev/null || need+=(prometheus)
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v amtool >/dev/null || need+=(prometheus-alertmanager)
command -v kcat >/dev/null || need+=(kcat)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
log "installing ${need[*]} with apt-get"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# The packages must not start services of their own on this machine.
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
