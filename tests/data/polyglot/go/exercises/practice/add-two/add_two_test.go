package addtwo

import "testing"

func TestZero(t *testing.T) {
	if got := AddTwo(0); got != 2 {
		t.Fatalf("AddTwo(0) = %d, want 2", got)
	}
}

func TestNegative(t *testing.T) {
	if got := AddTwo(-5); got != -3 {
		t.Fatalf("AddTwo(-5) = %d, want -3", got)
	}
}
