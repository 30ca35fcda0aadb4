#!/usr/bin/env bash
# Sourced by every entry script. Puts a Node >= 24 first on PATH.
# A machine that already runs Node 24+ pays nothing; an older one gets the official
# binary from the npm registry's node-<os>-<arch> package, cached under .cache/.
GRANTLINE_NODE_VERSION="${GRANTLINE_NODE_VERSION:-24.21.0}"

grantline_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

grantline_ensure_node24() {
  local root="$1"
  if [ "$(grantline_node_major)" -ge 24 ]; then return 0; fi
  local os arch
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "grantline: unsupported OS $(uname -s)" >&2; return 1 ;; esac
  case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) echo "grantline: unsupported CPU $(uname -m)" >&2; return 1 ;; esac
  local dir="$root/.cache/node/v$GRANTLINE_NODE_VERSION-$os-$arch"
  if [ ! -x "$dir/bin/node" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "grantline: need Node >= 24, or npm to fetch it (found neither)" >&2; return 1
    fi
    echo "grantline: this machine runs Node $(node -v 2>/dev/null || echo none); fetching Node $GRANTLINE_NODE_VERSION ($os-$arch) from the npm registry" >&2
    local tmp; tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-$os-$arch@$GRANTLINE_NODE_VERSION" >/dev/null && tar xzf node-*.tgz) || { rm -rf "$tmp"; return 1; }
    mkdir -p "$(dirname "$dir")" && rm -rf "$dir" && mv "$tmp/package" "$dir" && rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  [ "$(grantline_node_major)" -ge 24 ] || { echo "grantline: Node 24 bootstrap failed" >&2; return 1; }
}
