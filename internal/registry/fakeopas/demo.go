package fakeopas

import (
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

// demo is a tiny hand-made registry: one city with a bit of everything, a
// vocational college with campuses and a private school. OIDs are fixed
// (1.2.246.562.10.999000000nn) so that docs and demo configuration can
// name them.
func (g *gen) demo() {
	day := func(y int, m time.Month, d int) *time.Time {
		t := time.Date(y, m, d, 0, 0, 0, 0, g.loc).UTC()
		return &t
	}
	const city = "998"
	fi := []string{langFi}
	sv := []string{langSv}
	org := func(n, parent string, name model.LocalizedName, types ...string) model.Organisation {
		return model.Organisation{
			OID: "1.2.246.562.10.999000000" + n, ParentOID: parent, Name: name, Types: types,
			MunicipalityCode: city, Languages: fi, Status: model.OrgActive, StartDate: day(1995, time.August, 1),
		}
	}
	school := func(n, parent, code string, typ int, name model.LocalizedName) model.Organisation {
		o := org(n, parent, name, model.OrgTypeSchool)
		o.SchoolCode, o.OfficeCode, o.InstitutionType = code, code, typ
		return o
	}
	office := func(n, parent, code string, name string) model.Organisation {
		o := org(n, parent, model.LocalizedName{Fi: name}, model.OrgTypeOffice)
		o.OfficeCode = code
		return o
	}
	cityOID := "1.2.246.562.10.99900000001"
	c := org("01", model.RootOID, model.LocalizedName{Fi: "Esimerkkilän kaupunki", Sv: "Exempelby stad", En: "City of Esimerkkilä"},
		model.OrgTypeEducationProvider, model.OrgTypeEarlyEducationProvider, model.OrgTypeOther)
	c.BusinessID = "0000001-9"
	c.StartDate = day(1978, time.March, 15)
	g.add(c)
	g.add(school("02", cityOID, "99001", 11, model.LocalizedName{Fi: "Revontulten koulu", En: "Northern Lights School"}))
	g.add(school("03", cityOID, "99002", 11, model.LocalizedName{Fi: "Saunalahden yhtenäiskoulu"}))
	lukio := school("04", cityOID, "99003", 15, model.LocalizedName{Fi: "Esimerkkilän lukio", Sv: "Esimerkkilän lukio", En: "Esimerkkilä Upper Secondary School"})
	g.add(lukio)
	g.add(office("05", lukio.OID, "9900301", "Esimerkkilän lukio, aikuislinja"))
	svs := school("06", cityOID, "99004", 11, model.LocalizedName{Sv: "Exempelby svenska skola"})
	svs.Languages = sv
	g.add(svs)
	closed := school("07", cityOID, "99005", 11, model.LocalizedName{Fi: "Vanhan myllyn koulu"})
	closed.Status, closed.EndDate = model.OrgPassive, day(2023, time.June, 1)
	g.add(closed)
	planned := school("08", cityOID, "99008", 11, model.LocalizedName{Fi: "Uudenmäen koulu"})
	planned.Status, planned.StartDate = model.OrgPlanned, day(2027, time.August, 1)
	g.add(planned)
	g.add(org("09", cityOID, model.LocalizedName{Fi: "Päiväkoti Mesikämmen"}, model.OrgTypeEarlyEducationUnit))
	g.add(org("10", cityOID, model.LocalizedName{Fi: "Päiväkoti Tuulenpesä"}, model.OrgTypeEarlyEducationUnit))

	voc := org("11", model.RootOID, model.LocalizedName{Fi: "Taitaja-säätiö sr"}, model.OrgTypeEducationProvider)
	voc.BusinessID = "0000002-7"
	g.add(voc)
	amis := school("12", voc.OID, "99006", 21, model.LocalizedName{Fi: "Ammattiopisto Taitaja", En: "Taitaja Vocational College"})
	g.add(amis)
	g.add(office("13", amis.OID, "9900601", "Ammattiopisto Taitaja, Satamakampus"))
	g.add(office("14", amis.OID, "9900602", "Ammattiopisto Taitaja, Metsäkampus"))

	priv := org("15", model.RootOID, model.LocalizedName{Fi: "Kuusikorven Steiner-koulun kannatusyhdistys ry"}, model.OrgTypeEducationProvider)
	priv.BusinessID = "0000003-5"
	g.add(priv)
	g.add(school("16", priv.OID, "99007", 11, model.LocalizedName{Fi: "Kuusikorven Steiner-koulu"}))
}
