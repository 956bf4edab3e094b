package matching

import (
	"hash/maphash"
	"math"
	"strings"

	"github.com/trustelem/zxcvbn/match"
)

type dictionaryMatch struct {
	rankedDictionaries map[string]rankedDictionnary
}

func (dm dictionaryMatch) Matches(password string) []*match.Match {
	var results []*match.Match

	for dictionaryName, rankedDict := range dm.rankedDictionaries {
		for i := range password {
			for delta := range password[i:] {
				j := i + delta
				word := strings.ToLower(password[i : j+1])
				if val, ok := rankedDict.rank(word); ok {
					matchDic := &match.Match{
						Pattern:        "dictionary",
						I:              i,
						J:              j,
						Token:          password[i : j+1],
						MatchedWord:    word,
						Rank:           val,
						DictionaryName: dictionaryName,
					}

					results = append(results, matchDic)
				}
			}
		}
	}

	match.Sort(results)
	return results
}

func (dm dictionaryMatch) withDict(name string, d rankedDictionnary) dictionaryMatch {
	rd2 := make(map[string]rankedDictionnary, len(dm.rankedDictionaries)+1)
	for k, v := range dm.rankedDictionaries {
		rd2[k] = v
	}
	rd2[name] = d
	return dictionaryMatch{rankedDictionaries: rd2}
}

// rankedDictionnary maps lowercased words to their rank (1 = most
// frequent). Fork change: upstream used a map[string]int, whose 94,000
// default entries the garbage collector scanned on every cycle for the
// life of the process. This form keeps no pointers in its backing arrays:
// the words concatenated, their end offsets and ranks, and an
// open-addressing hash table of word indices.
type rankedDictionnary struct {
	words string   // the words, concatenated
	ends  []uint32 // ends[k] is where word k ends in words
	ranks []uint32 // ranks[k] is the rank of word k
	// slots holds, for word k at or after its hash's slot, k+1 in the
	// low 32 bits and the hash's high 32 bits above, so that a probe
	// rarely compares words that differ; 0 marks an empty slot.
	slots []uint64
	seed  maphash.Seed
}

func buildRankedDict(unrankedList []string) rankedDictionnary {
	result := make(map[string]int)

	for i, v := range unrankedList {
		result[strings.ToLower(v)] = i + 1
	}

	return newRankedDict(result)
}

// newRankedDict packs word -> rank into a rankedDictionnary.
func newRankedDict(ranks map[string]int) rankedDictionnary {
	size := 0
	for w := range ranks {
		size += len(w)
	}
	// A power of two at least twice the word count: probes stay short
	// and an empty slot always ends a search.
	nslots := 1
	for nslots < 2*len(ranks) {
		nslots *= 2
	}
	d := rankedDictionnary{
		ends:  make([]uint32, 0, len(ranks)),
		ranks: make([]uint32, 0, len(ranks)),
		slots: make([]uint64, nslots),
		seed:  maphash.MakeSeed(),
	}
	var b strings.Builder
	b.Grow(size)
	for w, r := range ranks {
		b.WriteString(w)
		d.ends = append(d.ends, uint32(b.Len()))
		d.ranks = append(d.ranks, uint32(r))
		i, tag := d.hash(w)
		for d.slots[i] != 0 {
			i = (i + 1) & uint64(nslots-1)
		}
		d.slots[i] = tag | uint64(len(d.ends))
	}
	d.words = b.String()
	return d
}

// hash returns the slot where the search for word starts, and the tag
// (the high half of a slot) that word's slot holds.
func (d rankedDictionnary) hash(word string) (slot, tag uint64) {
	h := maphash.String(d.seed, word)
	return h & uint64(len(d.slots)-1), h &^ math.MaxUint32
}

// word returns the k-th word.
func (d rankedDictionnary) word(k int) string {
	start := uint32(0)
	if k > 0 {
		start = d.ends[k-1]
	}
	return d.words[start:d.ends[k]]
}

// rank returns the rank of word, and whether the dictionary holds it.
func (d rankedDictionnary) rank(word string) (int, bool) {
	i, tag := d.hash(word)
	for s := d.slots[i]; s != 0; s = d.slots[i] {
		if s&^math.MaxUint32 == tag {
			k := int(s&math.MaxUint32) - 1
			if d.word(k) == word {
				return int(d.ranks[k]), true
			}
		}
		i = (i + 1) & uint64(len(d.slots)-1)
	}
	return 0, false
}
