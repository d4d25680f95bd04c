#!/bin/sh
# Build the lightning-onion conformance adapter offline, from local module folders.
#
#   build.sh [OUTPUT]        (default OUTPUT: lightning-onion-adapter next to this script)
#
# Nothing is downloaded: the build runs with GOFLAGS=-mod=mod GOPROXY=off, in a scratch copy
# of this folder whose go.mod gets one `replace` line per module, pointing at a local folder.
# Each folder is taken from its variable below, or else from $GO_MODULES_DIR/<name>. The
# versions are those of lightning-onion 98bd564's go.mod (and, for modules that
# lightning-onion does not name, of the go.mod that requires them). Where to get each one:
#
#   variable / name   module @ version                          source (repository @ ref, folder)
#   LIGHTNING_ONION   github.com/lightningnetwork/lightning-onion  github.com/lightningnetwork/lightning-onion
#                     @ 98bd564                                   @ 98bd56499dfb3a5dc9895bab2e7cb9b2a5a4ad5e, /
#   BTCD              github.com/btcsuite/btcd                    github.com/btcsuite/btcd
#                     @ v0.22.0-beta.0.20220207191057-4dc4ff7963b4 @ 4dc4ff7963b4, /
#   BTCEC             github.com/btcsuite/btcd/btcec/v2 @ v2.1.0  github.com/btcsuite/btcd @ btcec/v2.1.0, btcec/
#   SECP256K1         github.com/decred/dcrd/dcrec/secp256k1/v4   github.com/decred/dcrd
#                     @ v4.0.1                                    @ dcrec/secp256k1/v4.0.1, dcrec/secp256k1/
#   BLAKE256          github.com/decred/dcrd/crypto/blake256      github.com/decred/dcrd
#                     @ v1.0.0 (required by secp256k1's go.mod)   @ crypto/blake256/v1.0.0, crypto/blake256/
#   CHACHA20          github.com/aead/chacha20 @ 8b13a72661da     github.com/aead/chacha20 @ 8b13a72661da, /
#   BTCLOG            github.com/btcsuite/btclog @ 84c8d2346e9f   github.com/btcsuite/btclog @ 84c8d2346e9f, /
#   X_CRYPTO          golang.org/x/crypto @ 75b288015ac9          github.com/golang/crypto @ 75b288015ac9, /
#   X_SYS             golang.org/x/sys @ 3d37ad5750ed             github.com/golang/sys @ 3d37ad5750ed, /
#
# For example: git clone https://github.com/btcsuite/btcd && git -C btcd worktree add
# ../btcec-v2.1.0 btcec/v2.1.0, then BTCEC=$PWD/btcec-v2.1.0/btcec.
#
# chacha20 and btclog predate Go modules (no go.mod at those commits): the scratch copy of
# each gets a one-line go.mod. golang.org/x/net appears only in the module graph (x/crypto's
# go 1.11 go.mod names it; no package of it is built), so it is replaced by a folder holding
# only a go.mod unless X_NET names a real checkout.
#
# Where lightning-onion has WithTLVPayloadOnly (v1.3.0 and later), the build tag
# tlvpayloadonly makes the adapter peel with it (peel_options_tlv.go).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/lightning-onion-adapter"}
case $out in /*) ;; *) out="$(pwd)/$out" ;; esac
modules=${GO_MODULES_DIR:-"$here/modules"}
command -v go >/dev/null || { echo "build.sh: no go on PATH (Go >= 1.19)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cp "$here"/go.mod "$here"/*.go "$work"/
mkdir "$work/modules"

# folder VAR NAME: the module folder from $VAR, else $modules/NAME
folder() {
    eval "dir=\${$1:-}"
    [ -n "$dir" ] || dir="$modules/$2"
    [ -d "$dir" ] || { echo "build.sh: missing module folder for $1: $dir (see the table at the top of build.sh)" >&2; exit 2; }
    (cd "$dir" && pwd)
}

# use VAR NAME MODULE: replace MODULE by its local folder, checking the folder's module path
use() {
    dir=$(folder "$1" "$2")
    if [ ! -f "$dir/go.mod" ]; then  # a pre-module commit: a scratch copy with a go.mod
        cp -R "$dir" "$work/modules/$2"
        dir="$work/modules/$2"
        printf 'module %s\n' "$3" > "$dir/go.mod"
    fi
    declared=$(sed -n 's/^module[[:space:]]*//p' "$dir/go.mod" | tr -d '"' | head -n 1)
    [ "$declared" = "$3" ] || { echo "build.sh: $dir holds module '$declared', not $3" >&2; exit 2; }
    (cd "$work" && go mod edit -replace "$3=$dir")
}

use LIGHTNING_ONION lightning-onion github.com/lightningnetwork/lightning-onion
use BTCD btcd github.com/btcsuite/btcd
use BTCEC btcec github.com/btcsuite/btcd/btcec/v2
use SECP256K1 secp256k1 github.com/decred/dcrd/dcrec/secp256k1/v4
use BLAKE256 blake256 github.com/decred/dcrd/crypto/blake256
use CHACHA20 chacha20 github.com/aead/chacha20
use BTCLOG btclog github.com/btcsuite/btclog
use X_CRYPTO x-crypto golang.org/x/crypto
use X_SYS x-sys golang.org/x/sys
if [ -n "${X_NET:-}" ] || [ -d "$modules/x-net" ]; then
    use X_NET x-net golang.org/x/net
else
    mkdir "$work/modules/x-net"
    printf 'module golang.org/x/net\n' > "$work/modules/x-net/go.mod"
    (cd "$work" && go mod edit -replace "golang.org/x/net=$work/modules/x-net")
fi

tags=
if grep -q '^func WithTLVPayloadOnly' "$(folder LIGHTNING_ONION lightning-onion)"/*.go; then
    tags=tlvpayloadonly
fi

cd "$work"
GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off GOWORK=off GOTOOLCHAIN=local \
    go build -trimpath -tags "$tags" -o "$out" .
echo "built $out${tags:+ (tags: $tags)}"
