package addtwo

// AddTwo returns n plus two.
func AddTwo(n int) int { return n + 2 }
