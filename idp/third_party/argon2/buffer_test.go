package argon2

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	upstream "golang.org/x/crypto/argon2"
)

// dirty fills every word of b's memory with garbage, as a previous call
// with other inputs would have left it, so that any block a call reads
// before writing it changes the key.
func dirty(b *Buffer, rng *rand.Rand) {
	for i := range b.b {
		for j := range b.b[i] {
			b.b[i][j] = 0xdeadbeefdeadbeef ^ rng.Uint64()
		}
	}
}

func randBytes(rng *rand.Rand, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}

// TestBufferMatchesUpstream: a Buffer reused across calls — left dirty
// by the call before, filled with garbage, grown when a call needs more
// memory, larger than a call needs — gives exactly the key
// golang.org/x/crypto/argon2.IDKey gives, for random passwords, salts,
// passes, memory sizes (odd ones and ones not a multiple of 4 × threads
// included), threads and key lengths (past BLAKE2b's 64 bytes included).
// The first pass overwrites memory that upstream's fresh allocation had
// zeroed; a block read before that pass wrote it would show here.
func TestBufferMatchesUpstream(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261203, 1))
	var buf Buffer
	var grew, reused, dirtied int
	for i := range 300 {
		threads := uint8(1 + rng.IntN(4))
		time := uint32(1 + rng.IntN(3))
		memory := uint32(rng.IntN(8 * int(threads) * 40)) // below the floor of 8 KiB per thread too
		if i%5 == 0 {
			memory = uint32(8*int(threads) + rng.IntN(7)) // just above the floor, odd sizes
		}
		keyLen := uint32(4 + rng.IntN(125))
		password, salt := randBytes(rng, rng.IntN(40)), randBytes(rng, 8+rng.IntN(25))

		if len(buf.b) > 0 && rng.IntN(2) == 0 {
			dirty(&buf, rng)
			dirtied++
		}
		before := len(buf.b)
		got := buf.IDKey(password, salt, time, memory, threads, keyLen)
		want := upstream.IDKey(password, salt, time, memory, threads, keyLen)
		if !bytes.Equal(got, want) {
			t.Fatalf("call %d (t=%d m=%d p=%d keyLen=%d, buffer of %d blocks): key %x, upstream %x",
				i, time, memory, threads, keyLen, before, got, want)
		}
		if rounded := max(memory/(4*uint32(threads))*(4*uint32(threads)), 8*uint32(threads)); buf.Memory() != max(uint32(before), rounded) {
			t.Fatalf("call %d (m=%d p=%d): Memory() = %d after a buffer of %d blocks, want %d", i, memory, threads, buf.Memory(), before, max(uint32(before), rounded))
		}
		if len(buf.b) > before {
			grew++
		} else {
			reused++
		}
	}
	if grew < 3 || reused < 100 || dirtied < 50 {
		t.Fatalf("grew %d, reused %d, dirtied %d times: the inputs no longer exercise the buffer", grew, reused, dirtied)
	}

	// The production parameters (19 MiB, t=2, p=1) in a buffer dirtied
	// by a smaller call before it grew and again after.
	t.Run("default memory", func(t *testing.T) {
		password, salt := []byte("correct horse battery staple"), randBytes(rng, 16)
		want := upstream.IDKey(password, salt, 2, 19*1024, 1, 32)
		for i := range 2 {
			dirty(&buf, rng)
			if got := buf.IDKey(password, salt, 2, 19*1024, 1, 32); !bytes.Equal(got, want) {
				t.Fatalf("call %d: key %x, upstream %x", i, got, want)
			}
		}
	})
}

// TestBufferVectors: the RFC 9106 and reference test vectors in a dirty
// buffer, for every mode and with the assembly and the generic code.
func TestBufferVectors(t *testing.T) {
	defer func(sse4, lsx bool) { useSSE4, useLSX = sse4, lsx }(useSSE4, useLSX)
	rng := rand.New(rand.NewPCG(9106, 2))
	for _, impl := range []string{"default", "generic"} {
		if impl == "generic" {
			useSSE4, useLSX = false, false
		}
		var buf Buffer
		buf.blocks(256)
		for _, v := range []struct {
			mode int
			want string
		}{
			{argon2d, "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb"},
			{argon2i, "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8"},
			{argon2id, "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"},
		} {
			dirty(&buf, rng)
			got := deriveKey(v.mode, genKatPassword, genKatSalt, genKatSecret, genKatAAD, 3, 32, 4, 32, &buf)
			if hex.EncodeToString(got) != v.want {
				t.Errorf("%s, mode %d (RFC 9106 §5): %x, want %s", impl, v.mode, got, v.want)
			}
		}
		password, salt := []byte("password"), []byte("somesalt")
		for i, v := range testVectors {
			dirty(&buf, rng)
			want, _ := hex.DecodeString(v.hash)
			got := deriveKey(v.mode, password, salt, nil, nil, v.time, v.memory, v.threads, uint32(len(want)), &buf)
			if !bytes.Equal(got, want) {
				t.Errorf("%s, vector %d: %x, want %x", impl, i, got, want)
			}
		}
	}
}

// TestBufferReusesMemory: once a Buffer has grown to a call's memory,
// further calls allocate almost nothing (upstream allocates the whole
// memory every call); a nil Buffer allocates it every call, as IDKey.
func TestBufferReusesMemory(t *testing.T) {
	const memory = 1024 // KiB
	allocated := func(b *Buffer) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 8 {
			b.IDKey([]byte("password"), []byte("somesalt"), 1, memory, 1, 32)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	var buf Buffer
	buf.IDKey([]byte("warm"), []byte("up up up"), 1, memory, 1, 32)
	if n := allocated(&buf); n > memory<<10/4 {
		t.Errorf("8 calls in a grown Buffer allocated %d bytes; the blocks (%d KiB) must be reused", n, memory)
	}
	if n := allocated(nil); n < 8*memory<<10 {
		t.Errorf("8 calls with a nil Buffer allocated only %d bytes; want a fresh %d KiB each", n, memory)
	}
}

func ExampleBuffer() {
	var buf Buffer // one per goroutine that hashes: it keeps its 19 MiB after the first call
	key := buf.IDKey([]byte("some password"), []byte("a random salt!"), 2, 19*1024, 1, 32)
	fmt.Println(len(key))
	// Output: 32
}
