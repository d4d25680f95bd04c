module example.com/sphinxamp-adapter-lightning-onion

// main.go needs Go 1.18 (`any`); lightning-onion 98bd564 declares go 1.19, which Debian 12's
// golang-go provides. build.sh adds the `replace` lines that point each module at a local
// folder; the versions below are those of lightning-onion 98bd564's own go.mod.
go 1.19

require (
	github.com/btcsuite/btcd/btcec/v2 v2.1.0
	github.com/lightningnetwork/lightning-onion v1.2.1-0.20240712235311-98bd56499dfb
)

require (
	github.com/aead/chacha20 v0.0.0-20180709150244-8b13a72661da // indirect
	github.com/btcsuite/btcd v0.22.0-beta.0.20220207191057-4dc4ff7963b4 // indirect
	github.com/btcsuite/btclog v0.0.0-20170628155309-84c8d2346e9f // indirect
	github.com/decred/dcrd/dcrec/secp256k1/v4 v4.0.1 // indirect
	golang.org/x/crypto v0.0.0-20200622213623-75b288015ac9 // indirect
	golang.org/x/sys v0.0.0-20200814200057-3d37ad5750ed // indirect
)
