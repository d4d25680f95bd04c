//go:build !tlvpayloadonly

package main

import sphinx "github.com/lightningnetwork/lightning-onion"

// peelOptions: lightning-onion before v1.3.0 (98bd564 among them) has no WithTLVPayloadOnly,
// so a frame whose first byte is 0x00 is read as a legacy 65-byte hop (payload.go,
// HopPayload.Decode). build.sh selects peel_options_tlv.go where the option exists.
func peelOptions() []sphinx.ProcessOnionOpt {
	return nil
}
