// A CommonJS JavaScript app on Express 4 with its own express-session.
const express = require('express');
const session = require('express-session');
const { parLogin, requireLogin } = require('express-par-login');

const app = express();
app.use(
  session({
    secret: process.env.SESSION_SECRET,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax' },
  }),
);
app.use(parLogin());
app.get('/whoami', requireLogin(), (req, res) => {
  res.json({ name: req.auth.claims.name, kind: 'cjs-js' });
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
