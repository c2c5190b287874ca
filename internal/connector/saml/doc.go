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
//   - the posted SAMLResponse is size-limited, may carry no DTD (so no
//     external entities), no comments and no processing instructions (checked
//     on one etree parse, as internal/xmlsafe checks tokens), must hold
//     exactly one Assertion or EncryptedAssertion, a direct child of the
//     Response, before anything else looks at it, and must survive the XML
//     round-trip check (crewjam's copy of mattermost/xml-roundtrip-validator,
//     run once, by crewjam, before it parses the response);
//   - the signature (on the Response, or on the Assertion) is verified with
//     goxmldsig against every signing certificate of the IdP's current
//     metadata, and the Response and the Assertion are then read only from the
//     element that signature covers (crewjam/saml's ServiceProvider does the
//     verification and the profile checks: Issuer, Destination, InResponseTo,
//     Audience, SubjectConfirmationData Recipient and NotOnOrAfter,
//     Conditions, status);
//   - each assertion ID is used once (connector.ReplayCache, namespace
//     "saml-assertion").
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
