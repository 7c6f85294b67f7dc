package encounter

import (
	"bytes"
	"errors"
	"image/png"
	"testing"

	"rsc.io/qr"
)

func TestQRPNG(t *testing.T) {
	iss, _ := newIssuer(t)
	tok, err := iss.Issue(civilian)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 100, 256, 333, MaxQRSize} {
		data, err := QRPNG(tok.Value, size)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("size %d: not a PNG: %v", size, err)
		}
		want := size
		if want == 0 {
			want = DefaultQRSize
		}
		if b := img.Bounds(); b.Dx() != want || b.Dy() != want {
			t.Fatalf("size %d: image is %v", size, b)
		}
		var black, white int
		for y := range want {
			for x := range want {
				if r, _, _, _ := img.At(x, y).RGBA(); r == 0 {
					black++
				} else {
					white++
				}
			}
		}
		if black < want*want/10 || white < want*want/10 {
			t.Fatalf("size %d: %d black and %d white pixels, want both plentiful", size, black, white)
		}
		// Every pixel is its module's colour, and the quiet zone is white.
		code, _ := qr.Encode(tok.Value, qr.M)
		scale := want / (code.Size + 2*quietZone)
		off := (want - code.Size*scale) / 2
		if off < quietZone*scale {
			t.Fatalf("quiet zone %d px, want >= %d", off, quietZone*scale)
		}
		module := func(px int) int {
			if px < off || px >= off+code.Size*scale {
				return -1 // outside the symbol: Black reports white
			}
			return (px - off) / scale
		}
		for y := range want {
			for x := range want {
				r, _, _, _ := img.At(x, y).RGBA()
				if wantBlack := code.Black(module(x), module(y)); (r == 0) != wantBlack {
					t.Fatalf("size %d: pixel (%d,%d) black=%v, want %v", size, x, y, r == 0, wantBlack)
				}
			}
		}
	}
}

func TestQRPNGSizeBounds(t *testing.T) {
	for _, size := range []int{1, 20, MaxQRSize + 1} {
		if _, err := QRPNG("hello", size); !errors.Is(err, ErrQRSize) {
			t.Errorf("size %d: err = %v, want ErrQRSize", size, err)
		}
	}
}
