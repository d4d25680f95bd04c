module example.com/sphinxamp-adapter-lightning-onion

go 1.22

// `go mod tidy` resolves github.com/lightningnetwork/lightning-onion and
// github.com/btcsuite/btcd/btcec/v2 (pin the lightning-onion version you want to test with
// `go get github.com/lightningnetwork/lightning-onion@<version>`).
