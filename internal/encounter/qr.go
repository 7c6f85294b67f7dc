package encounter

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"

	"rsc.io/qr"
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

// pngEncoder reuses its compressor, which costs about a megabyte to set up,
// across encounters. A two-colour image compresses well even at the fastest
// level, and every encounter request pays for it.
var pngEncoder = &png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers{}}

// pngBuffers is a png.EncoderBufferPool over a sync.Pool.
type pngBuffers struct{ pool sync.Pool }

func (p *pngBuffers) Get() *png.EncoderBuffer {
	b, _ := p.pool.Get().(*png.EncoderBuffer)
	return b
}

func (p *pngBuffers) Put(b *png.EncoderBuffer) { p.pool.Put(b) }

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
	code, err := qr.Encode(value, qr.M)
	if err != nil {
		return nil, fmt.Errorf("encounter: encode QR: %w", err)
	}
	modules := code.Size + 2*quietZone
	scale := size / modules
	if scale < 1 {
		return nil, fmt.Errorf("%w: %d pixels is less than the %d modules of this code", ErrQRSize, size, modules)
	}
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	// Index 0 (white) is the zero value, so only black modules are drawn.
	offset := (size - code.Size*scale) / 2
	for y := range code.Size {
		for x := range code.Size {
			if !code.Black(x, y) {
				continue
			}
			for dy := range scale {
				row := img.Pix[(offset+y*scale+dy)*img.Stride:]
				for dx := range scale {
					row[offset+x*scale+dx] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := pngEncoder.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encounter: encode PNG: %w", err)
	}
	return buf.Bytes(), nil
}
