// A CommonJS TypeScript app (.cts, module node16) on Express 4.
import express = require('express');
import { parLogin, requireLogin, type RequestAuth } from 'express-par-login';

const app = express();
app.use(parLogin());
app.get('/whoami', requireLogin(), (req, res) => {
  const auth: RequestAuth = req.auth;
  const name: string | undefined = auth.claims?.name;
  res.json({ name, kind: 'cjs-ts' });
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
