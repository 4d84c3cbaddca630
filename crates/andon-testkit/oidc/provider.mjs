// A real OpenID Connect provider for Andon's tests: panva's `oidc-provider` (OpenID
// Certified), configured from the environment and listening on a free loopback port.
//
//   OIDC_DEPS    the directory `.ci/oidc.sh` installed oidc-provider into (it holds node_modules/)
//   OIDC_CONFIG  JSON: { "clients": [...], "users": [...], "ci_audiences": [...] } (see README.md)
//
// Once listening it prints exactly one line on stdout, {"issuer":"http://127.0.0.1:PORT"}, and
// nothing else there. Diagnostics go to stderr. It exits when stdin reaches end-of-file (so a
// parent that dies never leaks it), on SIGTERM and on SIGINT.
//
// Everything under /test/ and the /interaction/ pages are this program's own; every other route
// is oidc-provider's, unchanged. See README.md for which is which.

import { Buffer } from 'node:buffer';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The grant type the CI clients use to obtain a job's ID token (a private URN). */
const CI_GRANT = 'urn:andon:params:oauth:grant-type:ci-id-token';
/** The device authorization grant (RFC 8628). */
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** The ID token algorithms a CI token can be asked for: one signing key each. */
const CI_ALGS = ['RS256', 'ES256', 'EdDSA'];
/** Registered claims the provider sets itself; a CI token request must not supply them. */
const RESERVED_CLAIMS = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti']);
/** The longest CI token lifetime accepted, in seconds (a week). */
const MAX_CI_TTL = 7 * 24 * 3600;
/** The claim names the `email` and `groups` scopes release; every other user claim is `profile`'s. */
const EMAIL_CLAIMS = ['email', 'email_verified'];
const GROUPS_CLAIMS = ['groups'];
const PROFILE_CLAIMS = [
  'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username',
  'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
];

// Nothing but the ready line may reach stdout: whatever a library prints goes to stderr.
console.log = console.info = console.debug = (...args) => console.error(...args);

function fail(message) {
  console.error(`provider.mjs: ${message}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Stopping: end of stdin, SIGTERM or SIGINT.

function stop() {
  process.exit(0);
}
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.stdin.resume(); // read (and discard) stdin so that its end is noticed
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// ---------------------------------------------------------------------------------------------
// oidc-provider, from the dependency directory. ES modules ignore NODE_PATH, so resolve the
// package's entry point from that directory and import it by file URL.

const depsDir = process.env.OIDC_DEPS;
if (!depsDir) fail('OIDC_DEPS is not set (the directory .ci/oidc.sh installs oidc-provider into)');
let oidc;
try {
  const resolved = createRequire(join(depsDir, 'node_modules', '/')).resolve('oidc-provider');
  oidc = await import(pathToFileURL(resolved).href);
} catch (err) {
  fail(`cannot load oidc-provider from ${depsDir} (run .ci/oidc.sh): ${err.message}`);
}
const { Provider, errors } = oidc;

// ---------------------------------------------------------------------------------------------
// Configuration.

let config;
try {
  config = JSON.parse(process.env.OIDC_CONFIG ?? '');
} catch (err) {
  fail(`OIDC_CONFIG must be a JSON object: ${err.message}`);
}
const clientsConfig = config.clients ?? [];
const usersConfig = config.users ?? [];
const ciAudiences = config.ci_audiences ?? [];
if (!Array.isArray(clientsConfig) || !Array.isArray(usersConfig) || !Array.isArray(ciAudiences)) {
  fail('OIDC_CONFIG: clients, users and ci_audiences must be arrays');
}

/** The people who can sign in, by `sub`: { sub, claims, password? }. */
const users = new Map();
for (const user of usersConfig) {
  if (typeof user.sub !== 'string' || !user.sub) fail('OIDC_CONFIG: every user needs a string sub');
  users.set(user.sub, { claims: {}, ...user });
}

/**
 * oidc-provider client metadata for a configured (people's) client: the authorization code
 * flow with refresh tokens and the device authorization grant; no secret means a public client.
 * Any further oidc-provider client metadata in the entry is passed through unchanged.
 */
function personClient(entry) {
  const { client_id: clientId, client_secret: secret, ...rest } = entry;
  if (typeof clientId !== 'string' || !clientId) fail('OIDC_CONFIG: every client needs a client_id');
  const redirects = rest.redirect_uris ?? [];
  return {
    client_id: clientId,
    // A client without redirect URIs can still use the device flow.
    grant_types: redirects.length
      ? ['authorization_code', 'refresh_token', DEVICE_GRANT]
      : ['refresh_token', DEVICE_GRANT],
    response_types: redirects.length ? ['code'] : [],
    redirect_uris: redirects,
    post_logout_redirect_uris: [],
    ...(secret
      ? { client_secret: secret, token_endpoint_auth_method: 'client_secret_basic' }
      : { token_endpoint_auth_method: 'none' }),
    ...rest,
  };
}

/**
 * The client that stands for one CI audience: the ID tokens it obtains carry that audience
 * (oidc-provider puts the client's id in `aud`). Only the CI grant is allowed, authenticated
 * with a secret made at start that only /test/ci-token knows.
 */
const ciSecrets = new Map(ciAudiences.map((aud) => [aud, randomBytes(24).toString('base64url')]));
function ciClient(audience, alg = 'RS256') {
  return {
    client_id: audience,
    client_secret: ciSecrets.get(audience),
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [CI_GRANT],
    response_types: [],
    redirect_uris: [],
    id_token_signed_response_alg: alg,
  };
}

const clients = [...clientsConfig.map(personClient), ...ciAudiences.map((aud) => ciClient(aud))];
const ids = clients.map((c) => c.client_id);
const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
if (duplicate) fail(`OIDC_CONFIG: "${duplicate}" is both a client_id and a CI audience, or repeated`);

// Which scope releases which claim: email and groups have their own scopes; every other claim a
// user has (and the standard profile claims) belongs to `profile`.
const userClaimNames = new Set(usersConfig.flatMap((u) => Object.keys(u.claims ?? {})));
const profileClaims = new Set(PROFILE_CLAIMS);
for (const name of userClaimNames) {
  if (name !== 'sub' && !EMAIL_CLAIMS.includes(name) && !GROUPS_CLAIMS.includes(name)) {
    profileClaims.add(name);
  }
}

// ---------------------------------------------------------------------------------------------
// Signing keys: made at start, one per algorithm, each with its own kid.

function signingKey(kind, options, alg, label) {
  const { privateKey } = generateKeyPairSync(kind, options);
  const kid = `${label}-${randomBytes(8).toString('hex')}`;
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}
const keys = [
  signingKey('rsa', { modulusLength: 2048 }, 'RS256', 'rsa'),
  signingKey('ec', { namedCurve: 'P-256' }, 'ES256', 'ec'),
  signingKey('ed25519', undefined, 'EdDSA', 'ed25519'),
];

// ---------------------------------------------------------------------------------------------
// Pages. oidc-provider's default pages load a web font from the internet; these load nothing.

function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:24rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin-top:.75rem}input{display:block;width:100%;box-sizing:border-box;padding:.4rem}
button{margin-top:1rem;padding:.5rem 1rem}.error{color:#a00000}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

function loginPage(uid, params, error) {
  const hint = params.login_hint ? ` value="${escapeHtml(params.login_hint)}"` : '';
  return page('Sign in', `<p>to continue to <strong>${escapeHtml(params.client_id)}</strong></p>
${error ? `<p class="error" id="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">Username</label>
<input id="login" name="login" type="text" autocomplete="username" required autofocus${hint}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="sign-in" type="submit">Sign in</button>
</form>
<p><a id="cancel" href="/interaction/${escapeHtml(uid)}/abort">Cancel</a></p>`);
}

function consentPage(uid, params, details) {
  const scopes = (details.missingOIDCScope ?? []).filter((s) => s !== 'openid');
  const list = scopes.length
    ? `<ul>${scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>`
    : '<p>It asks you to confirm access you have already given.</p>';
  return page('Authorize', `<p><strong>${escapeHtml(params.client_id)}</strong> asks for:</p>
${list}
<form id="consent-form" method="post" action="/interaction/${escapeHtml(uid)}/confirm">
<button id="allow" type="submit">Allow</button>
</form>
<p><a id="cancel" href="/interaction/${escapeHtml(uid)}/abort">Cancel</a></p>`);
}

// ---------------------------------------------------------------------------------------------
// The provider. The issuer must be known to construct it, so the server listens first.

const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients,
  jwks: { keys },
  cookies: { keys: [randomBytes(32).toString('base64url')] },

  async findAccount(ctx, sub) {
    const user = users.get(sub);
    if (!user) return undefined;
    return { accountId: sub, claims: async () => ({ ...user.claims, sub }) };
  },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: [...profileClaims],
    email: EMAIL_CLAIMS,
    groups: GROUPS_CLAIMS,
  },
  // Put the scopes' claims in the ID token too, not only at the userinfo endpoint.
  conformIdTokenClaims: false,
  // PKCE (S256, the only method oidc-provider offers) for every authorization request.
  pkce: { required: () => true },
  // The authorization code flow only (no implicit or hybrid responses).
  responseTypes: ['code'],
  enabledJWA: { idTokenSigningAlgValues: CI_ALGS },

  // Our own interaction pages (below); the configured clients are first-party, so the
  // requested scopes are granted without a consent page unless the client asks for one
  // (prompt=consent).
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async loadExistingGrant(ctx) {
    const { Grant } = ctx.oidc.provider;
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    let grant = grantId ? await Grant.find(grantId) : undefined;
    grant ??= new Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
    grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
    await grant.save();
    return grant;
  },

  features: {
    devInteractions: { enabled: false },
    deviceFlow: {
      enabled: true,
      userCodeInputSource(ctx, form, out, err) {
        const msg = err ? `<p class="error" id="error" role="alert">${escapeHtml(err.userCode ? 'The code is incorrect.' : err.message)}</p>` : '';
        ctx.type = 'html';
        ctx.body = page('Device sign-in', `<p>Enter the code shown on your device.</p>${msg}
${form}
<button id="continue" type="submit" form="op.deviceInputForm">Continue</button>`);
      },
      userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
        ctx.type = 'html';
        ctx.body = page('Confirm device', `<p><strong>${escapeHtml(client.clientId)}</strong> shows the code <code id="user-code">${escapeHtml(userCode)}</code>.</p>
${form}
<button id="continue" type="submit" form="op.deviceConfirmForm">Continue</button>
<button id="abort" type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`);
      },
      successSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Device signed in', '<p id="success">You can close this page.</p>');
      },
    },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource(ctx, form) {
        ctx.type = 'html';
        ctx.body = page('Sign out', `<p>Sign out of ${escapeHtml(issuer)}?</p>
${form}
<button id="logout" type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button id="stay" type="submit" form="op.logoutForm">No, stay signed in</button>`);
      },
      postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Signed out', '<p id="signed-out">You are signed out.</p>');
      },
    },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<p id="error" role="alert"><strong>${escapeHtml(out.error)}</strong>: ${escapeHtml(out.error_description)}</p>`);
  },

  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 60,
    DeviceCode: 600,
    Grant: 3600,
    // A CI token lives as long as its request says; a person's ID token an hour.
    IdToken: (ctx) => (ctx?.oidc?.params?.grant_type === CI_GRANT ? Number(ctx.oidc.params.ci_ttl) : 3600),
    Interaction: 600,
    RefreshToken: 86400,
    Session: 3600,
  },
});

provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error:', err));

// ---------------------------------------------------------------------------------------------
// The CI grant: a CI client (one per audience) asks oidc-provider's token endpoint for a job's
// ID token. The token is oidc-provider's own IdToken, signed from its keystore with its issuer;
// the job's claims are added to it, and the requested algorithm is that of a copy of the
// audience's client registered with that `id_token_signed_response_alg`.

provider.registerGrantType(CI_GRANT, async (ctx) => {
  const { ci_claims: rawClaims, ci_alg: alg, ci_ttl: rawTtl } = ctx.oidc.params;
  if (!CI_ALGS.includes(alg)) {
    throw new errors.InvalidRequest(`ci_alg must be one of ${CI_ALGS.join(', ')}`);
  }
  const ttl = Number(rawTtl);
  if (!/^[0-9]+$/.test(rawTtl ?? '') || ttl < 1 || ttl > MAX_CI_TTL) {
    throw new errors.InvalidRequest(`ci_ttl must be a whole number of seconds from 1 to ${MAX_CI_TTL}`);
  }
  let claims;
  try {
    claims = JSON.parse(rawClaims ?? '');
  } catch {
    throw new errors.InvalidRequest('ci_claims must be JSON');
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    throw new errors.InvalidRequest('ci_claims must be a JSON object');
  }
  if (typeof claims.sub !== 'string' || !claims.sub) {
    throw new errors.InvalidRequest('ci_claims must have a string "sub"');
  }
  const reserved = Object.keys(claims).filter((name) => RESERVED_CLAIMS.has(name));
  if (reserved.length) {
    throw new errors.InvalidRequest(`ci_claims must not set ${reserved.join(', ')}: the provider does`);
  }

  const client = new provider.Client(ciClient(ctx.oidc.client.clientId, alg));
  const token = new provider.IdToken({}, { ctx, client });
  for (const [name, value] of Object.entries(claims)) token.set(name, value);
  // iat is set when the token is signed, and exp = iat + ttl (the IdToken ttl above).
  token.set('nbf', Math.floor(Date.now() / 1000));
  token.set('jti', randomUUID());
  const idToken = await token.issue({ use: 'idtoken' });

  ctx.body = {
    id_token: idToken,
    issued_token_type: 'urn:ietf:params:oauth:token-type:id_token',
    token_type: 'N_A',
    expires_in: ttl,
  };
}, ['ci_claims', 'ci_alg', 'ci_ttl']);

// ---------------------------------------------------------------------------------------------
// HTTP: this program's routes first, then oidc-provider's.

async function readBody(req, limit = 1 << 20) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
const sendJson = (res, status, value) => send(res, status, 'application/json', JSON.stringify(value));
const sendHtml = (res, status, html) => send(res, status, 'text/html; charset=utf-8', html);

/** POST /test/ci-token {audience, claims, alg, ttl} -> {id_token}, through the token endpoint. */
async function ciToken(req, res) {
  let request;
  try {
    request = JSON.parse(await readBody(req));
  } catch {
    return sendJson(res, 400, { error: 'invalid_request', error_description: 'the body must be JSON' });
  }
  const { audience, claims, alg = 'RS256', ttl = 300 } = request ?? {};
  const secret = ciSecrets.get(audience);
  if (!secret) {
    return sendJson(res, 400, {
      error: 'invalid_request',
      error_description: `audience ${JSON.stringify(audience)} is not one of ci_audiences`,
    });
  }
  // client_secret_basic: both halves form-encoded, then base64 (RFC 6749 section 2.3.1).
  const form = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  const basic = Buffer.from(`${form(audience)}:${form(secret)}`).toString('base64');
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: CI_GRANT,
      ci_claims: JSON.stringify(claims ?? null),
      ci_alg: String(alg),
      ci_ttl: String(ttl),
    }),
  });
  const out = await response.json();
  return sendJson(res, response.status, response.ok ? { id_token: out.id_token } : out);
}

/** The sign-in (and, when asked for, consent) pages under /interaction/UID. */
async function interaction(req, res, uid, action) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    return sendHtml(res, 400, page('Error', `<p id="error" role="alert">${escapeHtml(err.message)}</p>`));
  }
  if (details.uid !== uid) {
    return sendHtml(res, 400, page('Error', '<p id="error" role="alert">This sign-in has expired: start again.</p>'));
  }
  const { prompt, params } = details;

  if (req.method === 'GET' && action === undefined) {
    if (prompt.name === 'login') return sendHtml(res, 200, loginPage(uid, params));
    if (prompt.name === 'consent') return sendHtml(res, 200, consentPage(uid, params, prompt.details));
    return sendHtml(res, 501, page('Error', `<p id="error" role="alert">unsupported prompt ${escapeHtml(prompt.name)}</p>`));
  }
  if (req.method === 'GET' && action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'the user cancelled the sign-in',
    }, { mergeWithLastSubmission: false });
  }
  if (req.method === 'POST' && action === 'login' && prompt.name === 'login') {
    const body = new URLSearchParams(await readBody(req));
    const login = body.get('login') ?? '';
    const password = body.get('password') ?? '';
    const user = users.get(login);
    // Any non-empty password, unless the user's configuration sets one.
    if (!user || !password || (user.password !== undefined && user.password !== password)) {
      return sendHtml(res, 401, loginPage(uid, { ...params, login_hint: login }, 'Unknown username or wrong password.'));
    }
    return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, {
      mergeWithLastSubmission: false,
    });
  }
  if (req.method === 'POST' && action === 'confirm' && prompt.name === 'consent') {
    const { Grant } = provider;
    let grant = details.grantId ? await Grant.find(details.grantId) : undefined;
    grant ??= new Grant({ accountId: details.session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, {
      mergeWithLastSubmission: true,
    });
  }
  return sendHtml(res, 400, page('Error', '<p id="error" role="alert">Unexpected request for this sign-in step.</p>'));
}

const providerCallback = provider.callback();

async function route(req, res) {
  const { pathname } = new URL(req.url, issuer);
  if (pathname === '/test/health' && req.method === 'GET') {
    return sendJson(res, 200, { status: 'ok' });
  }
  if (pathname === '/test/ci-token' && req.method === 'POST') {
    return ciToken(req, res);
  }
  const match = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/.exec(pathname);
  if (match) {
    return interaction(req, res, match[1], match[2]);
  }
  return providerCallback(req, res);
}

server.on('request', (req, res) => {
  route(req, res).catch((err) => {
    console.error('provider.mjs:', err);
    if (res.headersSent) {
      res.destroy();
    } else {
      sendJson(res, err.status ?? 500, { error: 'server_error', error_description: err.message });
    }
  });
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
