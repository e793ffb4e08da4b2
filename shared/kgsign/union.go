package kgsign

import "crypto/subtle"

// Named returns the key set with each label prefixed by name ("notify primary"),
// so that logs of an endpoint trusting several interface types' keys say which one
// verified.
func (ks KeySet) Named(name string) KeySet {
	out := KeySet{keys: make([]Key, len(ks.keys))}
	for i, k := range ks.keys {
		out.keys[i] = Key{b: k.b, id: name + " " + k.id}
	}
	return out
}

// Union returns one key set holding the keys of every set, in order; a key present
// in several sets (every interface type sharing KG_ACCESS_KEY) appears once, with
// its first label. The first set's primary key is the union's primary key.
func Union(sets ...KeySet) KeySet {
	var out KeySet
	for _, ks := range sets {
	next:
		for _, k := range ks.keys {
			for _, have := range out.keys {
				if subtle.ConstantTimeCompare(have.b, k.b) == 1 {
					continue next
				}
			}
			out.keys = append(out.keys, k)
		}
	}
	return out
}
