// A relying party built on panva/openid-client for the provider's interop
// test (../../interop_test.go). It runs one whole login against the issuer
// and prints what it received as JSON on stdout:
//
//   node rp.mjs
//
// Configuration comes from the environment: ISSUER, CLIENT_ID, REDIRECT_URI,
// AUTH (none | client_secret_basic | private_key_jwt), CLIENT_SECRET, and
// CLIENT_JWK (the private key of private_key_jwt as a JWK with kid).
// The browser is simulated with fetch and redirect: 'manual' when the
// test's broker logs the user in without a page (see BROWSER below).
import * as client from 'openid-client';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const issuer = new URL(env('ISSUER'));
const clientId = env('CLIENT_ID');
const redirectUri = env('REDIRECT_URI');
const method = env('AUTH');

let auth;
switch (method) {
  case 'none':
    auth = client.None();
    break;
  case 'client_secret_basic':
    auth = client.ClientSecretBasic(env('CLIENT_SECRET'));
    break;
  case 'private_key_jwt': {
    const jwk = JSON.parse(env('CLIENT_JWK'));
    const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    auth = client.PrivateKeyJwt({ key, kid: jwk.kid });
    break;
  }
  default:
    throw new Error(`unknown AUTH ${method}`);
}

// The test server speaks plain HTTP on 127.0.0.1.
const config = await client.discovery(issuer, clientId, { redirect_uris: [redirectUri] }, auth, {
  execute: [client.allowInsecureRequests],
});

const verifier = client.randomPKCECodeVerifier();
const challenge = await client.calculatePKCECodeChallenge(verifier);
const state = client.randomState();
const nonce = client.randomNonce();
const authUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile',
  code_challenge: challenge,
  code_challenge_method: 'S256',
  state,
  nonce,
  max_age: '3600',
});

// With BROWSER=external a real login page stands between the authorization
// request and the callback (the broker's school selection and test source):
// the script prints the authorization URL as a JSON line and reads the
// callback URL the browser ended at from standard input.
let location;
if (process.env.BROWSER === 'external') {
  process.stdout.write(JSON.stringify({ authorize: authUrl.href }) + '\n');
  location = await new Promise((resolve, reject) => {
    let buf = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        process.stdin.pause();
        resolve(buf.slice(0, nl).trim());
      }
    });
    process.stdin.on('end', () => reject(new Error('no callback URL on standard input')));
  });
} else {
  const resp = await fetch(authUrl, { redirect: 'manual' });
  location = resp.headers.get('location');
  if (!location) throw new Error(`authorization endpoint answered ${resp.status} without a redirect`);
}

const tokens = await client.authorizationCodeGrant(config, new URL(location), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  maxAge: 3600,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

process.stdout.write(JSON.stringify({ idToken: claims, userinfo, scope: tokens.scope }) + '\n');
