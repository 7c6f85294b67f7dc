// Package traceid makes W3C trace ids (16 bytes, 32 hex digits) that begin
// with the time.
//
// Trace steps are stored under their trace id, and every step of a
// command is written within moments of the command. Random ids scatter
// those writes over the whole trace index, one page per step; ids that
// begin with the time put the steps being written together on the few
// pages at the index's end. The first 48 bits are the Unix time in
// milliseconds (as in a UUIDv7), the other 80 bits are random: more than
// the 56 random rightmost bits W3C Trace Context level 2 asks of an id
// whose "random" flag is set, so sampling on them stays sound.
package traceid

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// New returns a new trace id.
func New() [16]byte {
	var id [16]byte
	ms := uint64(time.Now().UnixMilli())
	binary.BigEndian.PutUint16(id[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(id[2:6], uint32(ms))
	_, _ = rand.Read(id[6:]) // never fails (crypto/rand panics instead)
	return id
}

// String returns a new trace id as 32 lowercase hex digits.
func String() string {
	id := New()
	return hex.EncodeToString(id[:])
}
