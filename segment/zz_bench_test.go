package segment

import "testing"

func BenchmarkZZDecompress(b *testing.B) {
	r, _ := openBench(b)
	var raw int
	for b.Loop() {
		raw = 0
		blk := &r.blocks[2]
		for i := range blk.Cols {
			x, err := r.column(2, &blk.Cols[i])
			if err != nil {
				b.Fatal(err)
			}
			raw += len(x)
		}
	}
	b.ReportMetric(float64(raw), "rawbytes")
}

func BenchmarkZZKeys(b *testing.B) {
	r, _ := openBench(b)
	for b.Loop() {
		if _, err := r.keys(2); err != nil {
			b.Fatal(err)
		}
	}
}
