// The live view (/_stub/ui): reads the state from the control API every two
// seconds and draws the tickets, grouped by owner around a circle, with a
// chord for each association; the table lists them newest first, as
// ListCases does, so that a ticket just created is on top.
//
// The page holds no secret. When the control API wants a credential, the
// page takes it from its URL fragment (/_stub/ui#token=..., which browsers
// never send to the server) or from its input box, keeps it in
// sessionStorage for this tab only and sends it as a bearer token. The
// state it reads holds every user's credentials: model() keeps none of
// them, so nothing secret is ever drawn.
'use strict';

(function () {
  const POLL_MS = 2000;
  const TOKEN_KEY = 'osm-stub-control-token';
  const SVG = 'http://www.w3.org/2000/svg';

  // The API's ticket statuses (reference §2.1), each with the kind of
  // state it is, which gives its colour: open, waiting for the customer,
  // paused, done, or closed without a result.
  const STATUSES = {
    0: ['to be processed', 'open'],
    1: ['processing', 'open'],
    2: ['to be confirmed', 'waiting'],
    3: ['completed', 'done'],
    4: ['canceled', 'closed'],
    5: ['paused', 'paused'],
    12: ['invalid', 'closed'],
    13: ['deleted', 'closed'],
    17: ['pending feedback', 'waiting'],
  };

  function statusLabel(n) { return STATUSES[n] ? STATUSES[n][0] : 'status ' + n; }
  function statusKind(n) { return STATUSES[n] ? STATUSES[n][1] : 'unknown'; }

  const statusEl = document.getElementById('status');
  const authForm = document.getElementById('auth');
  const tokenInput = document.getElementById('token');
  const graph = document.getElementById('graph');

  let token = tokenFromFragment() || sessionStorage.getItem(TOKEN_KEY) || '';
  let drawn = ''; // the model last drawn, to redraw only on a change

  // tokenFromFragment takes #token=... out of the address bar (so that it
  // is neither bookmarked nor shown) and keeps it for this tab.
  function tokenFromFragment() {
    const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (!m) return '';
    const t = decodeURIComponent(m[1]);
    sessionStorage.setItem(TOKEN_KEY, t);
    history.replaceState(null, '', location.pathname + location.search);
    return t;
  }

  authForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    token = tokenInput.value.trim();
    tokenInput.value = '';
    sessionStorage.setItem(TOKEN_KEY, token);
    poll();
  });

  async function getJSON(path) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const res = await fetch(path, { headers: headers, cache: 'no-store', credentials: 'omit' });
    if (!res.ok) {
      let msg = res.status + ' ' + res.statusText;
      try { msg = res.status + ' ' + (await res.json()).error_code; } catch (_) { /* not JSON */ }
      const err = new Error(msg);
      err.status = res.status;
      throw err;
    }
    return res.json();
  }

  // model keeps what the page shows of the state: names, accounts, groups,
  // tickets with their status, number of messages and associations; no
  // token, access key or secret key, and no message text.
  function model(state) {
    const owners = (state.users || []).map(function (u) {
      return { name: u.name, account: u.account || '', groups: (u.groups || []).slice() };
    });
    const tickets = (state.tickets || []).map(function (t) {
      return {
        id: t.id,
        owner: t.owner,
        account: t.account || '',
        status: typeof t.status === 'number' ? t.status : 0, // absent: a new ticket's
        messages: (t.messages || []).length,
        created: t.create_time || '',
        description: t.simple_description,
        relations: (t.relations || []).slice(),
      };
    });
    return { owners: owners, tickets: tickets };
  }

  function setStatus(text, bad) {
    statusEl.textContent = text;
    statusEl.classList.toggle('bad', !!bad);
    document.body.classList.toggle('stale', !!bad); // what is drawn may be out of date
  }

  let timer = 0;
  async function poll() {
    clearTimeout(timer);
    if (!document.hidden) {
      try {
        const m = model(await getJSON('/_stub/state'));
        const key = JSON.stringify(m);
        if (key !== drawn) {
          drawn = key;
          draw(m);
        }
        authForm.hidden = true;
        setStatus('updated ' + new Date().toLocaleTimeString());
      } catch (err) {
        if (err.status === 401 || err.status === 403) {
          authForm.hidden = false;
          setStatus('the control API refused the request (' + err.message + '): give its token', true);
          // Wait for the token: every wrong try counts against this
          // address, and too many get it refused (429 STUB.0005).
          return;
        } else if (err.status === 404) {
          setStatus('the control API is not served (' + err.message + ')', true);
        } else {
          setStatus('cannot read the state: ' + err.message, true);
        }
      }
    }
    timer = setTimeout(poll, POLL_MS);
  }
  document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });

  function el(name, attrs, text) {
    const e = document.createElementNS(SVG, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function hue(name) {
    let h = 0;
    for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 360;
    return h;
  }

  function color(name) { return 'hsl(' + hue(name) + ', 55%, 42%)'; }

  // order lists the tickets owner by owner (users in state order, then
  // owners the users lack), each owner's by ID.
  function order(m) {
    const owners = m.owners.map(function (o) { return o.name; });
    m.tickets.forEach(function (t) { if (owners.indexOf(t.owner) < 0) owners.push(t.owner); });
    const groups = owners.map(function (name) {
      const u = m.owners.find(function (o) { return o.name === name; });
      return {
        name: name,
        account: u ? u.account : '',
        tickets: m.tickets.filter(function (t) { return t.owner === name; })
          .sort(function (a, b) { return a.id < b.id ? -1 : a.id > b.id ? 1 : 0; }),
      };
    });
    return groups.filter(function (g) { return g.tickets.length > 0; });
  }

  function draw(m) {
    drawGraph(m);
    drawTables(m);
  }

  function drawGraph(m) {
    const groups = order(m);
    const n = m.tickets.length;
    const longest = m.tickets.reduce(function (w, t) { return Math.max(w, t.id.length); }, 4);
    const boxW = 16 + longest * 7.5;
    const boxH = 24;
    const slots = n + groups.length; // one empty slot between owners
    const r = Math.max(170, (slots * (boxW + 14)) / (2 * Math.PI));
    const margin = boxW / 2 + 110;
    const c = r + margin;
    graph.setAttribute('viewBox', '0 0 ' + 2 * c + ' ' + 2 * c);
    graph.setAttribute('width', 2 * c);
    graph.setAttribute('height', 2 * c);
    graph.replaceChildren();

    const edges = el('g', { class: 'relations' });
    const nodes = el('g', { class: 'tickets' });
    const arcs = el('g', { class: 'owners' });
    graph.append(arcs, edges, nodes);

    const pos = {};
    let slot = 0;
    const angle = function (s) { return -Math.PI / 2 + (2 * Math.PI * s) / slots; };
    const at = function (a, radius) { return [c + radius * Math.cos(a), c + radius * Math.sin(a)]; };

    groups.forEach(function (g) {
      const first = slot;
      g.tickets.forEach(function (t) {
        const a = angle(slot++);
        const p = at(a, r);
        pos[t.id] = p;
        const node = el('g', {
          class: 'ticket st-' + statusKind(t.status), 'data-id': t.id, 'data-owner': t.owner, 'data-status': t.status,
        });
        node.append(
          el('title', {}, t.id + ' (' + t.owner + '), ' + statusLabel(t.status) + ', ' +
            plural(t.messages, 'message') + ': ' + t.description),
          el('rect', { x: p[0] - boxW / 2, y: p[1] - boxH / 2, width: boxW, height: boxH, rx: 6, stroke: color(t.owner) }),
          el('text', { x: p[0], y: p[1] + 4, 'text-anchor': 'middle' }, t.id)
        );
        nodes.append(node);
      });
      // The owner's arc, outside the circle, from its first to its last ticket.
      const a0 = angle(first - 0.4), a1 = angle(slot - 0.6);
      const ro = r + boxW / 2 + 12;
      const p0 = at(a0, ro), p1 = at(a1, ro);
      const large = a1 - a0 > Math.PI ? 1 : 0;
      const owner = el('g', { class: 'owner', 'data-owner': g.name });
      owner.append(el('path', {
        d: 'M' + p0[0] + ',' + p0[1] + ' A' + ro + ',' + ro + ' 0 ' + large + ' 1 ' + p1[0] + ',' + p1[1],
        stroke: color(g.name),
      }));
      const mid = (a0 + a1) / 2;
      const lp = at(mid, ro + 16);
      const cos = Math.cos(mid);
      owner.append(el('text', {
        x: lp[0], y: lp[1] + 4, fill: color(g.name),
        'text-anchor': Math.abs(cos) < 0.3 ? 'middle' : cos > 0 ? 'start' : 'end',
      }, g.name + (g.account ? ' (' + g.account + ')' : '')));
      arcs.append(owner);
      slot++; // the gap
    });

    // One chord per association (both tickets list it), under the nodes.
    const seen = {};
    m.tickets.forEach(function (t) {
      t.relations.forEach(function (o) {
        const a = t.id < o ? t.id : o, b = t.id < o ? o : t.id;
        if (seen[a + '\n' + b] || !pos[a] || !pos[b]) return;
        seen[a + '\n' + b] = true;
        const pa = pos[a], pb = pos[b];
        // Pull the curve toward the centre, less for close neighbours.
        const mx = (pa[0] + pb[0]) / 2, my = (pa[1] + pb[1]) / 2;
        const qx = mx + (c - mx) * 0.6, qy = my + (c - my) * 0.6;
        const g = el('g', { class: 'relation', 'data-a': a, 'data-b': b });
        g.append(
          el('title', {}, a + ' \u2194 ' + b),
          el('path', { d: 'M' + pa[0] + ',' + pa[1] + ' Q' + qx + ',' + qy + ' ' + pb[0] + ',' + pb[1] })
        );
        edges.append(g);
      });
    });
    if (n === 0) graph.append(el('text', { x: c, y: c, 'text-anchor': 'middle' }, 'no tickets'));
  }

  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  // row appends to tbody a row of cells, each [class, text or node]; id,
  // if given, marks the row (data-id) as the graph marks its ticket.
  function row(tbody, cells, id) {
    const tr = document.createElement('tr');
    if (id !== undefined) tr.dataset.id = id;
    cells.forEach(function (c) {
      const td = document.createElement('td');
      if (c[0]) td.className = c[0];
      if (c[1] instanceof Node) td.append(c[1]);
      else td.textContent = c[1];
      tr.append(td);
    });
    tbody.append(tr);
  }

  function span(cls, text) {
    const s = document.createElement('span');
    s.className = cls;
    s.textContent = text;
    return s;
  }

  // who is a user's name, with its account unless it is the default one.
  function who(name, account) {
    const f = document.createDocumentFragment();
    f.append(name);
    if (account) f.append(' ', span('account', account));
    return f;
  }

  function statusCell(n) {
    const f = document.createDocumentFragment();
    f.append(span('num', String(n)), ' ', span('st st-' + statusKind(n), statusLabel(n)));
    return f;
  }

  // created shows a time of the state as yyyy-mm-dd hh:mm in UTC; a value
  // it cannot read, as it is.
  function created(s) {
    const d = new Date(s);
    return isNaN(d) ? s : d.toISOString().slice(0, 16).replace('T', ' ');
  }

  // newestFirst orders tickets as ListCases does: by creation time, newest
  // first, then by ID, highest first.
  function newestFirst(a, b) {
    const ta = Date.parse(a.created) || 0, tb = Date.parse(b.created) || 0;
    if (ta !== tb) return tb - ta;
    return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  }

  function drawTables(m) {
    const tickets = document.querySelector('#tickets tbody');
    tickets.replaceChildren();
    m.tickets.slice().sort(newestFirst).forEach(function (t) {
      row(tickets, [
        ['', t.id],
        ['status', statusCell(t.status)],
        ['messages', String(t.messages)],
        ['relations', t.relations.join(', ')],
        ['', who(t.owner, t.account)],
        ['created', created(t.created)],
        ['', t.description],
      ], t.id);
    });
    const owners = document.querySelector('#owners tbody');
    owners.replaceChildren();
    m.owners.forEach(function (o) {
      const count = m.tickets.filter(function (t) { return t.owner === o.name; }).length;
      row(owners, [['', who(o.name, o.account)], ['', o.groups.join(', ')], ['', String(count)]]);
    });
  }

  poll();
})();
