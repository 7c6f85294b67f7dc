package encounter

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The signed payload is a fixed binary layout rather than JSON: JSON with a
// UUID subject came to about 240 characters once encoded and signed, which
// makes a denser QR code; this layout gives about 154. Version 1:
//
//	offset  size  field
//	0       1     version, always 1
//	1       16    token id, random
//	17      8     issued at, Unix seconds, big-endian signed
//	25      8     expires at, Unix seconds, big-endian signed
//	33      1     subject form: 0 = text, 1 = UUID
//	form 1:
//	34      16    civilian id as UUID bytes (the id was a canonical
//	              lowercase UUID string and is restored as one)
//	form 0:
//	34      1     n, length of the civilian id, 1..MaxSubjectLen
//	35      n     civilian id, UTF-8
//
// Nothing may follow the last field. A future layout must change the version
// byte, which Verify reads before anything else.
const (
	version1      = 1
	idLen         = 16
	headerLen     = 1 + idLen + 8 + 8 + 1
	subjectText   = 0
	subjectUUID   = 1
	maxPayloadLen = headerLen + 1 + MaxSubjectLen
)

func marshalPayload(id [idLen]byte, sub string, iat, exp int64) ([]byte, error) {
	if sub == "" || !utf8.ValidString(sub) {
		return nil, fmt.Errorf("%w: must be non-empty UTF-8", ErrInvalidSubject)
	}
	b := make([]byte, headerLen, maxPayloadLen)
	b[0] = version1
	copy(b[1:], id[:])
	binary.BigEndian.PutUint64(b[17:], uint64(iat))
	binary.BigEndian.PutUint64(b[25:], uint64(exp))
	if u, err := uuid.Parse(sub); err == nil && u.String() == sub {
		b[33] = subjectUUID
		return append(b, u[:]...), nil
	}
	if len(sub) > MaxSubjectLen {
		return nil, fmt.Errorf("%w: %d bytes, at most %d (or a UUID)", ErrInvalidSubject, len(sub), MaxSubjectLen)
	}
	b[33] = subjectText
	b = append(b, byte(len(sub)))
	return append(b, sub...), nil
}

// unmarshalPayload parses a version 1 payload whose signature has already
// been verified; it still checks every bound so that no input can panic.
func unmarshalPayload(b []byte) (Claims, error) {
	if len(b) < headerLen+1 || b[0] != version1 {
		return Claims{}, fmt.Errorf("%w: payload too short", ErrMalformed)
	}
	iat := int64(binary.BigEndian.Uint64(b[17:]))
	exp := int64(binary.BigEndian.Uint64(b[25:]))
	if exp <= iat {
		return Claims{}, fmt.Errorf("%w: expiry not after issue time", ErrMalformed)
	}
	var sub string
	rest := b[headerLen:]
	switch b[33] {
	case subjectUUID:
		if len(rest) != 16 {
			return Claims{}, fmt.Errorf("%w: bad uuid subject length", ErrMalformed)
		}
		sub = uuid.UUID(rest).String()
	case subjectText:
		n := int(rest[0])
		if n == 0 || n > MaxSubjectLen || len(rest) != 1+n || !utf8.Valid(rest[1:]) {
			return Claims{}, fmt.Errorf("%w: bad text subject", ErrMalformed)
		}
		sub = string(rest[1:])
	default:
		return Claims{}, fmt.Errorf("%w: unknown subject form %d", ErrMalformed, b[33])
	}
	return Claims{
		ID:         b64.EncodeToString(b[1 : 1+idLen]),
		CivilianID: sub,
		IssuedAt:   time.Unix(iat, 0).UTC(),
		ExpiresAt:  time.Unix(exp, 0).UTC(),
	}, nil
}
