// Package saml is the broker's SAML 2.0 service provider towards the
// schools' own identity providers: Microsoft Entra ID (Azure AD), ADFS,
// Google Workspace and any standards-compliant SAML IdP. It implements
// connector.Connector.
//
// Why a package of its own: SAML is where an identity broker is most easily
// broken. A SAML response is an XML document that the user's browser carries
// to the broker, so everything in it is attacker-controlled until its XML
// signature has been verified, and the classic attacks (signature wrapping,
// comment injection, XXE, replay, an assertion meant for another service)
// all come from reading something other than what was signed or checking less
// than the profile demands. This package keeps those rules in one place:
//
//   - the posted SAMLResponse is size-limited and parsed once, into the one
//     tree everything after reads: it may carry no DTD (so no external
//     entities), no comments and no processing instructions (checked on
//     the etree parse, as internal/xmlsafe checks tokens), and every tag
//     must survive encoding/xml's encode/decode round trip (the check of
//     mattermost/xml-roundtrip-validator, made on the tags the tree kept
//     rather than on two more tokenisations of the bytes; see
//     xmlsafe.ParseTree); it must hold exactly one Assertion or
//     EncryptedAssertion, a direct child of the Response, before anything
//     else looks at it;
//   - the signature (on the Response, on the Assertion, or both) is
//     verified against the IdP's signing certificates in its current
//     metadata (the one the KeyInfo carries, else each in turn), under the
//     SAML reference profile (one Reference, to the signed element's ID)
//     and without SHA-1 unless allowed. A signature of the shape every
//     known IdP makes (exc-c14n, enveloped-signature, SHA-2) is verified
//     on the parsed tree with goxmldsig's canonicalizer (commonsig.go);
//     any other shape by goxmldsig itself. From then on the Response and
//     the Assertion are read only from the element the signature check
//     returns, the very tree whose canonical bytes were digested, never
//     from the received tree around it: so no arrangement of unsigned
//     elements around a signed one (signature wrapping) can put words in
//     the IdP's mouth. The profile checks (Issuer, Destination, InResponseTo,
//     Audience, SubjectConfirmationData Recipient and NotOnOrAfter,
//     Conditions, status) are made here, on those elements, with the clock
//     tolerances crewjam/saml's ServiceProvider had. This package did use
//     that ServiceProvider, but it parsed each response four times over
//     (round-trip check, etree, encoding/xml for Response and Assertion,
//     and again inside the signature check), which cost most of a login's
//     CPU at the broker; crewjam/saml now only decrypts (xmlenc) and
//     supplies the SP metadata types;
//   - each assertion ID is used once (connector.ReplayCache, namespace
//     "saml-assertion").
//
// AuthnRequests are written by Start from a fixed template and DEFLATEd by
// pooled writers, not built by crewjam/saml: that allocated a new
// compressor (some 800 KB) for every login, and the query signature,
// which cannot be avoided, should be all a redirect costs.
//
// IdP metadata comes from a MetadataSource: an uploaded document or a URL
// fetched on a schedule that keeps the last good copy when a fetch fails or
// yields something unusable. MetadataSource.Info gives the management service
// the metadata's validUntil and certificate expiry dates, so that it can warn
// before they lapse. The broker's own SP metadata comes from
// Connector.SPMetadata.
//
// Attribute names: Identity.Attributes holds every attribute under its Name
// (for Entra ID and ADFS a claim URI such as
// http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname, for Google
// Workspace the name the school gave it in the SAML app's attribute mapping,
// for Shibboleth-style IdPs an OID such as urn:oid:2.5.4.42). It is also
// stored under its FriendlyName, when it has one, and, for the azure and adfs
// presets, under the short name of a well-known claim (ClaimAliases), unless
// an attribute with that exact Name exists. So a user-attribute mapping may
// name either form. The SAML NameID is Identity.NameID, not an attribute.
package saml
