// An independent upstream OpenID Provider (panva/oidc-provider) for the oidc
// connector's interop test (../../interop_test.go). It listens on 127.0.0.1
// on a free port, registers one confidential client from the environment
// (CLIENT_ID, CLIENT_SECRET, REDIRECT_URI) and prints {"issuer": "..."} on
// its first line of output once it is ready. Logins use oidc-provider's
// development interactions: any login name with any password, then a
// consent form.
import http from 'node:http';
import Provider from 'oidc-provider';

const { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env;
if (!CLIENT_ID || !CLIENT_SECRET || !REDIRECT_URI) {
  console.error('CLIENT_ID, CLIENT_SECRET and REDIRECT_URI are required');
  process.exit(2);
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    claims: {
      openid: ['sub'],
      profile: ['given_name', 'family_name', 'name', 'locale'],
      email: ['email', 'email_verified'],
    },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            given_name: 'Interop',
            family_name: 'Käyttäjä',
            name: 'Interop Käyttäjä',
            locale: 'fi',
            email: `${id}@interop.example`,
            email_verified: true,
          };
        },
      };
    },
    cookies: { keys: ['interop-test-cookie-key-not-secret'] },
    features: { devInteractions: { enabled: true } },
    pkce: { methods: ['S256'], required: () => true },
  });
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
