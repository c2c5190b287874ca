package fakeopas

import (
	"math/rand/v2"
	"strings"
)

// Word lists for Finnish-sounding (and some Swedish) names. They are
// composed, not copied from the real registry, so that the fake never claims
// to describe a real school.

// stems of place names; suffixes make a village or town of them.
var fiStems = []string{
	"Mänty", "Koivu", "Kuusi", "Haapa", "Paju", "Leppä", "Pihlaja", "Tammi",
	"Kallio", "Kivi", "Hiekka", "Savi", "Sora", "Rauta", "Kulta", "Hopea",
	"Järvi", "Lampi", "Suo", "Saari", "Niitty", "Pelto", "Metsä", "Korpi",
	"Kirkko", "Mylly", "Silta", "Kartano", "Puisto", "Ranta", "Lehto", "Harju",
	"Karhu", "Kettu", "Jänis", "Hirvi", "Joutsen", "Kurki", "Haukka", "Kotka",
	"Tuuli", "Lumi", "Routa", "Kevät", "Kesä", "Syys", "Aamu", "Ilta",
	"Auringon", "Kuun", "Tähti", "Revon", "Sini", "Puna", "Valko", "Musta",
	"Ylä", "Ala", "Keski", "Vanha", "Uusi", "Iso", "Pikku", "Etelä",
}

// fiSuffixes: nominative and genitive of the suffix, for back-vowel and
// front-vowel stems (vowel harmony: Mäntylä but Koivula).
var fiSuffixes = []struct{ backNom, backGen, frontNom, frontGen string }{
	{"la", "lan", "lä", "län"},
	{"niemi", "niemen", "niemi", "niemen"},
	{"mäki", "mäen", "mäki", "mäen"},
	{"lahti", "lahden", "lahti", "lahden"},
	{"joki", "joen", "joki", "joen"},
	{"vaara", "vaaran", "vaara", "vaaran"},
	{"kylä", "kylän", "kylä", "kylän"},
	{"ranta", "rannan", "ranta", "rannan"},
	{"salo", "salon", "salo", "salon"},
	{"koski", "kosken", "koski", "kosken"},
	{"nummi", "nummen", "nummi", "nummen"},
	{"kangas", "kankaan", "kangas", "kankaan"},
	{"vuori", "vuoren", "vuori", "vuoren"},
	{"pää", "pään", "pää", "pään"},
	{"linna", "linnan", "linna", "linnan"},
	{"talo", "talon", "talo", "talon"},
}

var svStems = []string{
	"Ek", "Björk", "Gran", "Tall", "Lind", "Ask", "Sjö", "Strand", "Berg",
	"Holm", "Sund", "Vik", "Näs", "Dal", "Ång", "Kyrk", "Kvarn", "Skog",
	"Sol", "Mån", "Stjärn", "Havs", "Äng", "Åker", "Norr", "Söder", "Väster",
	"Öster", "Lill", "Stor", "Gammel", "Ny",
}

var svSuffixes = []string{"by", "vik", "näs", "holm", "sund", "dal", "berg", "å", "ö", "backa", "hamn", "torp"}

var compass = []string{"Pohjois", "Etelä", "Itä", "Länsi", "Keski", "Ala", "Ylä"}

var daycareWords = []string{
	"Satakieli", "Muksumäki", "Pellava", "Sirkus", "Tenavat", "Mesikämmen",
	"Pikkukarhu", "Leppäkerttu", "Kotilo", "Tuulenpesä", "Sinisiipi",
	"Kultakallio", "Kielo", "Vaahtera", "Pihlaja", "Peikkometsä", "Taikatalo",
	"Tähtönen", "Auringonkukka", "Menninkäinen", "Metsätähti", "Pajunkissa",
	"Kissankello", "Myyrä", "Siilinpesä", "Oravanpesä", "Tilkkutäkki",
	"Naavaparta", "Puolukka", "Mustikka", "Kanerva", "Lumihiutale", "Pilvilinna",
	"Sateenkaari", "Tuikku", "Kuunsäde", "Kaarnalaiva", "Omenapuu", "Kompassi",
	"Touhutupa", "Nuppu", "Vekara", "Hippiäinen", "Västäräkki", "Peippo",
	"Tiitiäinen", "Vilske", "Pikku-Myy", "Nappula", "Hopeapaju",
}

var svDaycareWords = []string{
	"Solrosen", "Lärkan", "Humlan", "Nyckelpigan", "Ekorren", "Trollskogen",
	"Stjärnan", "Fjärilen", "Måsen", "Snäckan", "Blåklockan", "Ankdammen",
}

var companyWords = []string{
	"Taito", "Osaava", "Oppimo", "Sivistys", "Tietotupa", "Kasvu", "Tulevaisuus",
	"Verso", "Siemen", "Polku", "Silta", "Majakka", "Kompassi", "Tähtäin",
	"Lähde", "Juuri", "Avain", "Kipinä", "Virta", "Aalto",
}

var regions = []struct{ nom, gen string }{
	{"Uusimaa", "Uudenmaan"}, {"Häme", "Hämeen"}, {"Savo", "Savon"},
	{"Karjala", "Karjalan"}, {"Pohjanmaa", "Pohjanmaan"}, {"Satakunta", "Satakunnan"},
	{"Kainuu", "Kainuun"}, {"Lappi", "Lapin"}, {"Kymenlaakso", "Kymenlaakson"},
	{"Pirkanmaa", "Pirkanmaan"}, {"Varsinais-Suomi", "Varsinais-Suomen"},
	{"Keski-Suomi", "Keski-Suomen"}, {"Päijät-Häme", "Päijät-Hämeen"},
}

// place is a generated place name in nominative and genitive.
type place struct{ nom, gen string }

func backVowelled(s string) bool {
	s = strings.ToLower(s)
	return strings.ContainsAny(s, "aou") && !strings.ContainsAny(s, "äöy")
}

func fiPlace(r *rand.Rand) place {
	stem := fiStems[r.IntN(len(fiStems))]
	suf := fiSuffixes[r.IntN(len(fiSuffixes))]
	// Some stems end in a vowel that the suffix "la"/"lä" merges with fine;
	// for the rest, the composition is simply concatenation.
	if backVowelled(stem) {
		return place{stem + suf.backNom, stem + suf.backGen}
	}
	return place{stem + suf.frontNom, stem + suf.frontGen}
}

func svPlace(r *rand.Rand) string {
	return svStems[r.IntN(len(svStems))] + svSuffixes[r.IntN(len(svSuffixes))]
}

// uniquePlaces returns n distinct Finnish place names.
func uniquePlaces(r *rand.Rand, n int, used map[string]bool) []place {
	out := make([]place, 0, n)
	for tries := 0; len(out) < n && tries < n*50; tries++ {
		p := fiPlace(r)
		if used[p.nom] {
			continue
		}
		used[p.nom] = true
		out = append(out, p)
	}
	for i := 0; len(out) < n; i++ { // word lists exhausted: number them
		p := fiPlace(r)
		out = append(out, place{p.nom + " " + itoa(i+2), p.gen + " " + itoa(i+2)})
	}
	return out
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}
