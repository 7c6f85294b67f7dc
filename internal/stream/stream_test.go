package stream

import "testing"

func TestCategoriesInvertStreamFor(t *testing.T) {
	for _, s := range EventStreams() {
		cats := Categories(s)
		if len(cats) == 0 {
			t.Errorf("stream %s has no categories", s)
		}
		for _, c := range cats {
			if got, ok := StreamFor(c); !ok || got != s {
				t.Errorf("category %s goes to %s, but Categories(%s) lists it", c, got, s)
			}
		}
	}
}
