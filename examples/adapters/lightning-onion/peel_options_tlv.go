//go:build tlvpayloadonly

package main

import sphinx "github.com/lightningnetwork/lightning-onion"

// peelOptions: lightning-onion v1.3.0 added WithTLVPayloadOnly (sphinx.go): every frame is
// read as a BigSize length and a TLV payload, never as a legacy hop, as BOLT 4 has it since
// the legacy format was removed.
func peelOptions() []sphinx.ProcessOnionOpt {
	return []sphinx.ProcessOnionOpt{sphinx.WithTLVPayloadOnly()}
}
