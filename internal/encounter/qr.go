package encounter

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"

	"rsc.io/qr"
	"rsc.io/qr/coding"
)

// DefaultQRSize is the side in pixels of the QR image when QRPNG is given a
// size of zero or less: large enough to scan from a phone screen.
const DefaultQRSize = 256

// MaxQRSize bounds the side of the QR image, so a client asking for a huge
// image cannot make the server allocate without limit.
const MaxQRSize = 2048

// quietZone is the white border, in modules, that the QR standard requires
// around the symbol so scanners can find it.
const quietZone = 4

// zlibWriters reuse their compressors, which cost about a megabyte each to
// set up, across encounters.
var zlibWriters = sync.Pool{New: func() any {
	w, _ := zlib.NewWriterLevel(nil, zlib.BestSpeed) // a valid level cannot fail
	return w
}}

// ErrQRSize is returned by QRPNG when the requested size is larger than
// MaxQRSize or too small to give each module at least one pixel.
var ErrQRSize = errors.New("encounter: QR image size out of range")

// QRPNG renders value as a QR code in a size×size PNG (DefaultQRSize if size
// is zero or less), for the API to return base64-encoded so the civilian's
// app can show it to the officer without generating it itself.
//
// Modules are whole pixels (scaled by an integer factor, centred, with at
// least the standard four-module quiet zone) so the code stays crisp; medium
// error correction tolerates a scratched or dimmed screen.
func QRPNG(value string, size int) ([]byte, error) {
	if size <= 0 {
		size = DefaultQRSize
	}
	if size > MaxQRSize {
		return nil, fmt.Errorf("%w: %d exceeds %d", ErrQRSize, size, MaxQRSize)
	}
	code, err := encodeQR(value)
	if err != nil {
		return nil, fmt.Errorf("encounter: encode QR: %w", err)
	}
	modules := code.Size + 2*quietZone
	scale := size / modules
	if scale < 1 {
		return nil, fmt.Errorf("%w: %d pixels is less than the %d modules of this code", ErrQRSize, size, modules)
	}
	return encodePNG(code, size, scale)
}

// encodePNG writes the code as a 1-bit greyscale PNG. image/png would take
// an image.Image and ask for every pixel through an interface call, which
// made the PNG 90% of an encounter request's time; a QR code's rows come in
// runs of scale identical rows, so each is packed once and written scale
// times.
func encodePNG(code *qr.Code, size, scale int) ([]byte, error) {
	offset := (size - code.Size*scale) / 2
	stride := 1 + (size+7)/8 // the filter-type byte (0: none), then the pixels
	white := make([]byte, stride)
	for i := 1; i < stride; i++ {
		white[i] = 0xff // in greyscale, a 1 bit is white
	}
	row := make([]byte, stride)

	var buf bytes.Buffer
	buf.Grow(1024)
	buf.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(size))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(size))
	ihdr[8] = 1 // bit depth; colour type 0 (greyscale), deflate, no filter or interlace
	writeChunk(&buf, "IHDR", ihdr[:])

	var idat bytes.Buffer
	zw := zlibWriters.Get().(*zlib.Writer)
	defer zlibWriters.Put(zw)
	zw.Reset(&idat)
	write := func(b []byte, times int) error {
		for range times {
			if _, err := zw.Write(b); err != nil {
				return err
			}
		}
		return nil
	}
	if err := write(white, offset); err != nil {
		return nil, fmt.Errorf("encounter: encode PNG: %w", err)
	}
	for y := range code.Size {
		copy(row, white)
		for x := range code.Size {
			if !code.Black(x, y) {
				continue
			}
			for px := offset + x*scale; px < offset+(x+1)*scale; px++ {
				row[1+px/8] &^= 0x80 >> (px % 8)
			}
		}
		if err := write(row, scale); err != nil {
			return nil, fmt.Errorf("encounter: encode PNG: %w", err)
		}
	}
	if err := write(white, size-offset-code.Size*scale); err != nil {
		return nil, fmt.Errorf("encounter: encode PNG: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encounter: encode PNG: %w", err)
	}
	writeChunk(&buf, "IDAT", idat.Bytes())
	writeChunk(&buf, "IEND", nil)
	return buf.Bytes(), nil
}

// writeChunk appends a PNG chunk: length, type, data and the CRC of type
// and data.
func writeChunk(buf *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	buf.Write(n[:])
	buf.WriteString(typ)
	buf.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	buf.Write(n[:])
}

// plans keeps the layout of each QR version at level M. rsc.io/qr's Encode
// lays out the version's grid anew for every code, a third of the time an
// encounter's QR code took, though encoding only reads a layout; tokens are
// all about one length, so one or two versions are ever laid out.
var plans sync.Map // coding.Version -> *coding.Plan

// encodeQR is qr.Encode(text, qr.M) with the layouts kept: the same choice
// of data encoding and of the smallest version that holds it, and the same
// mask, so the codes are the same bit for bit.
func encodeQR(text string) (*qr.Code, error) {
	var enc coding.Encoding
	switch {
	case coding.Num(text).Check() == nil:
		enc = coding.Num(text)
	case coding.Alpha(text).Check() == nil:
		enc = coding.Alpha(text)
	default:
		enc = coding.String(text)
	}
	const level = coding.Level(qr.M)
	v := coding.Version(coding.MinVersion)
	for enc.Bits(v) > v.DataBytes(level)*8 {
		if v++; v > coding.MaxVersion {
			return nil, errors.New("text too long to encode as QR")
		}
	}
	plan, ok := plans.Load(v)
	if !ok {
		p, err := coding.NewPlan(v, level, 0)
		if err != nil {
			return nil, err
		}
		plan, _ = plans.LoadOrStore(v, p)
	}
	c, err := plan.(*coding.Plan).Encode(enc)
	if err != nil {
		return nil, err
	}
	return &qr.Code{Bitmap: c.Bitmap, Size: c.Size, Stride: c.Stride, Scale: 8}, nil
}
