package sigv4

import (
	"crypto/md5"
	"sync"
	"testing"

	md5simd "github.com/minio/md5-simd"
)

func BenchmarkMD5Choice(b *testing.B) {
	buf := make([]byte, 32<<10)
	b.Run("stdlib", func(b *testing.B) {
		h := md5.New()
		b.SetBytes(int64(len(buf)))
		for i := 0; i < b.N; i++ {
			h.Write(buf)
		}
		h.Sum(nil)
	})
	srv := md5simd.NewServer()
	defer srv.Close()
	b.Run("md5simd-1stream", func(b *testing.B) {
		h := srv.NewHash()
		defer h.Close()
		b.SetBytes(int64(len(buf)))
		for i := 0; i < b.N; i++ {
			h.Write(buf)
		}
		h.Sum(nil)
	})
	for _, streams := range []int{2, 4, 8, 16} {
		b.Run("md5simd-streams-"+string(rune('0'+streams/10))+string(rune('0'+streams%10)), func(b *testing.B) {
			b.SetBytes(int64(len(buf)) * int64(streams))
			var wg sync.WaitGroup
			for s := 0; s < streams; s++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					h := srv.NewHash()
					defer h.Close()
					for i := 0; i < b.N; i++ {
						h.Write(buf)
					}
					h.Sum(nil)
				}()
			}
			wg.Wait()
		})
		b.Run("stdlib-streams-"+string(rune('0'+streams/10))+string(rune('0'+streams%10)), func(b *testing.B) {
			b.SetBytes(int64(len(buf)) * int64(streams))
			var wg sync.WaitGroup
			for s := 0; s < streams; s++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					h := md5.New()
					for i := 0; i < b.N; i++ {
						h.Write(buf)
					}
					h.Sum(nil)
				}()
			}
			wg.Wait()
		})
	}
}
