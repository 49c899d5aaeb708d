#!/bin/sh
# ensure-deps.sh DIR: node's gRPC client for cri-call.js (@grpc/grpc-js, @grpc/proto-loader from
# the npm registry) installed under DIR once; prints DIR/node_modules. Exit 4 with the reason on
# stdout when node or npm is missing or the registry cannot be reached (the CRI test then skips).
set -u
DIR=${1:?usage: ensure-deps.sh DIR}
command -v node >/dev/null || { echo "node is not installed (Debian: nodejs)"; exit 4; }
if [ ! -f "$DIR/node_modules/@grpc/grpc-js/package.json" ] || [ ! -f "$DIR/node_modules/@grpc/proto-loader/package.json" ]; then
    command -v npm >/dev/null || { echo "npm is not installed (Debian: npm)"; exit 4; }
    mkdir -p "$DIR" || exit 4
    if ! timeout 300 npm install --prefix "$DIR" --no-audit --no-fund --no-save --loglevel=error \
        @grpc/grpc-js@1 @grpc/proto-loader@0.7 >"$DIR/npm.log" 2>&1; then
        echo "npm install of @grpc/grpc-js and @grpc/proto-loader failed: $(tail -n 2 "$DIR/npm.log" | tr '\n' ' ')"
        exit 4
    fi
fi
echo "$DIR/node_modules"
