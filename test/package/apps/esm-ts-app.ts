// An ES module TypeScript app on Express 5, compiled under strict: no `!` anywhere.
import express from 'express';
import { parLogin, requireLogin } from 'express-par-login';

declare module 'express-par-login' {
  interface CustomClaims {
    given_name?: string;
  }
}

const app = express();
app.use(parLogin());
app.get('/whoami', requireLogin(), (req, res) => {
  const name: string | undefined = req.auth.claims?.name;
  const given: string | undefined = req.auth.claims?.given_name;
  res.json({ name, given, kind: 'esm-ts' });
});
app.get('/step-up', (_req, res) => void res.login({ prompt: 'login', returnTo: '/whoami' }));
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
