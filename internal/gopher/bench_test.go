package gopher

import (
	"fmt"
	"strings"
	"testing"
)

func BenchmarkParseRequest(b *testing.B) {
	line := []byte("/some/directory/with/a/file.txt\tsearch terms\t+\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRequest(line); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadRequest(b *testing.B) {
	const line = "/some/directory/with/a/file.txt\r\n"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadRequest(strings.NewReader(line), 1024); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMenuBytes renders menus of growing size; ns/op divided by the
// item count should stay flat.
func BenchmarkMenuBytes(b *testing.B) {
	for _, n := range []int{20, 200, 10000} {
		m := make(Menu, n)
		for i := range m {
			m[i] = Item{Type: TypeText, Display: fmt.Sprintf("file-%05d.txt", i), Selector: fmt.Sprintf("/dir/file-%05d.txt", i), Host: "gopher.example.org", Port: 70}
		}
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Bytes()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/item")
		})
	}
}
