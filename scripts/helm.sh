#!/usr/bin/env bash
# Print the path of the project's helm binary, building it first when missing.
#
# helm is built from source through the Go module proxy into the git-ignored .cache/bin (no other download
# source is reachable from the build machines). The first build fetches helm's modules and compiles them
# (about 2 minutes on 2 cores); later calls only print the path. A built binary is also kept in the user's cache
# (${XDG_CACHE_HOME:-~/.cache}/shadowqa/helm/VERSION, as pip and Go keep theirs), so a fresh clone copies it
# instead of linking it again (about 45 s even with Go's caches warm). Build output goes to stderr: stdout is the
# path.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.cache/bin"
HELM="$BIN_DIR/helm"
STAMP="$BIN_DIR/helm.build"   # the flags the binary was built with; a different request rebuilds it
SHARED="${XDG_CACHE_HOME:-$HOME/.cache}/shadowqa/helm/$HELM_VERSION"

find_go() {
    if command -v go >/dev/null 2>&1; then
        command -v go
    elif [ -x /usr/local/go/bin/go ]; then
        echo /usr/local/go/bin/go
    else
        echo "scripts/helm.sh: no Go toolchain (go on PATH or /usr/local/go/bin/go) to build helm with" >&2
        exit 1
    fi
}

if [ -x "$HELM" ] && [ -f "$STAMP" ] && [ "$(head -n1 "$STAMP")" = "$HELM_VERSION" ]; then
    echo "$HELM"
    exit 0
fi

if [ -x "$SHARED/helm" ] && [ -f "$SHARED/helm.build" ] && [ "$(head -n1 "$SHARED/helm.build")" = "$HELM_VERSION" ] \
    && "$SHARED/helm" version --short >/dev/null 2>&1; then
    mkdir -p "$BIN_DIR"
    cp "$SHARED/helm" "$HELM.tmp" && mv "$HELM.tmp" "$HELM"
    cp "$SHARED/helm.build" "$STAMP"
    echo "scripts/helm.sh: $("$HELM" version --short) from $SHARED" >&2
    echo "$HELM"
    exit 0
fi

GO="$(find_go)"
start=$(date +%s)
echo "scripts/helm.sh: building helm $HELM_VERSION with $("$GO" version) into $BIN_DIR (first build takes minutes)" >&2
# helm's own Makefile stamps its version and the Kubernetes version `helm template`/`helm lint` assume (that of
# its client-go); without them `helm version` says v3.x and the assumed cluster is v1.20.
src="$("$GO" mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
client_go="$(sed -n 's/^\tk8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$src/go.mod")"
if [ -z "$client_go" ]; then
    echo "scripts/helm.sh: cannot read the client-go version from $src/go.mod" >&2
    exit 1
fi
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in pkg/chartutil pkg/lint/rules; do
    ldflags="$ldflags -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$client_go"
done
mkdir -p "$BIN_DIR"
GOBIN="$BIN_DIR" CGO_ENABLED=0 "$GO" install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
printf '%s\nkubernetes 1.%s\n' "$HELM_VERSION" "$client_go" > "$STAMP"
if mkdir -p "$SHARED" 2>/dev/null && cp "$HELM" "$SHARED/helm.tmp" 2>/dev/null; then
    mv "$SHARED/helm.tmp" "$SHARED/helm" && cp "$STAMP" "$SHARED/helm.build"
fi
echo "scripts/helm.sh: built $("$HELM" version --short) (assumes Kubernetes 1.$client_go) in $(( $(date +%s) - start )) s" >&2
echo "$HELM"
