package exchange

import "fmt"

func fieldf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
