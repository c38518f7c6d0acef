package capbench

import (
	"testing"
	"time"
)

func TestBlastBadFlood(t *testing.T) {
	for _, f := range []Flood{{}, {Count: 1, Limit: 0}, {Count: 1, Rate: -1, Limit: time.Second}} {
		if _, err := Blast(-1, nil, f); err == nil {
			t.Errorf("Blast(%+v) accepted", f)
		}
	}
}
