package encounter

import (
	"bytes"
	"errors"
	"image/png"
	"strings"
	"sync"
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

// TestEncodeQRMatchesTheLibrary holds the kept layouts to rsc.io/qr's own
// Encode: digits, upper-case letters and bytes (each QR data encoding), at
// lengths that span many versions, encoded from several goroutines at once
// so that a layout shared between them shows under the race detector.
func TestEncodeQRMatchesTheLibrary(t *testing.T) {
	repeat := func(s string, n int) string { return strings.Repeat(s, n/len(s)+1)[:n] }
	var texts []string
	for n := 1; n <= 600; n += 7 {
		texts = append(texts, repeat("7", n), repeat("AB1 $%*+-./:", n), repeat("eyJ0b2tlbiI6ICJ4In0.", n))
	}
	iss, _ := newIssuer(t)
	tok, err := iss.Issue(civilian)
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, tok.Value)
	if _, err := encodeQR(strings.Repeat("x", 3000)); err == nil {
		t.Error("3,000 bytes encoded, want too long for a QR code")
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, text := range texts {
				got, err := encodeQR(text)
				if err != nil {
					t.Errorf("%d bytes: %v", len(text), err)
					return
				}
				want, err := qr.Encode(text, qr.M)
				if err != nil {
					t.Errorf("%d bytes, the library: %v", len(text), err)
					return
				}
				if got.Size != want.Size || got.Stride != want.Stride || !bytes.Equal(got.Bitmap, want.Bitmap) {
					t.Errorf("%d bytes (%.12q...): a %d-module code differs from the library's %d-module one", len(text), text, got.Size, want.Size)
					return
				}
			}
		})
	}
	wg.Wait()
}
