'use strict';
/**
 * The benign set for the detection evaluation: real-world-shaped values a support-call service
 * receives, built at run time so no list has to be kept by hand beyond the prose below.
 *
 * - names, addresses, companies, product names, sentences, e-mails, URLs and user agents from
 *   @faker-js/faker in every locale it ships (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari,
 *   Thai, CJK …), with a fixed seed so every run sees the same values;
 * - Exotel webhook field values in the shapes Exotel sends;
 * - product titles and English support-call prose written for this set, full of the characters
 *   and words naive detectors trip on: apostrophes, quotes, `&`, parentheses, semicolons, `<`/`>`,
 *   and SQL and shell words in ordinary sentences.
 */
const { allFakers } = require('@faker-js/faker');

const SEED = 20261204;
/** Dates are drawn relative to this, not to the clock, so the set is the same on every run. */
const REF_DATE = '2026-12-01T00:00:00.000Z';
const PER_LOCALE = 6; // rounds of each generator per locale

function fakerValues() {
  const out = [];
  for (const [locale, f] of Object.entries(allFakers)) {
    if (locale === 'base' || locale === 'en_BORK') continue;
    f.seed(SEED);
    f.setDefaultRefDate(REF_DATE);
    const gens = [
      () => f.person.fullName(),
      () => f.person.jobTitle(),
      () => f.location.streetAddress(true),
      () => `${f.location.city()}, ${f.location.state()} ${f.location.zipCode()}`,
      () => f.company.name(),
      () => f.company.catchPhrase(),
      () => f.commerce.productName(),
      () => f.commerce.department(),
      () => f.lorem.sentence(),
      () => f.word.words(4),
      () => f.phone.number(),
      () => f.internet.email(),
      () => f.internet.url(),
      () => f.date.past().toISOString(),
      () => f.finance.amount(),
      () => f.internet.userAgent(),
    ];
    for (let r = 0; r < PER_LOCALE; r++) {
      for (const g of gens) {
        try {
          const v = g();
          if (typeof v === 'string' && v.length > 0) out.push({ group: `faker:${locale}`, value: v });
        } catch {
          // a locale without data for this generator
        }
      }
    }
  }
  return out;
}

function exotelValues() {
  const f = allFakers.en_IN;
  f.seed(SEED + 1);
  f.setDefaultRefDate(REF_DATE);
  const out = [];
  const statuses = ['completed', 'busy', 'no-answer', 'failed', 'canceled', 'in-progress', 'ringing', 'queued'];
  const directions = ['inbound', 'outbound-api', 'outbound-dial', 'incoming'];
  for (let i = 0; i < 60; i++) {
    const digits = String(f.number.int({ min: 6000000000, max: 9999999999 }));
    const sid = f.string.hexadecimal({ length: 32, casing: 'lower', prefix: '' });
    const when = f.date.recent().toISOString().replace('T', ' ').slice(0, 19);
    out.push(
      sid,
      `0${digits}`,
      `+91${digits}`,
      `0${digits.slice(0, 4)}-${digits.slice(4)}`,
      statuses[i % statuses.length],
      directions[i % directions.length],
      when,
      `https://s3-ap-southeast-1.amazonaws.com/exotelrecordings/caly${i}/${sid}.mp3`,
      `"${i % 10}"`,
      JSON.stringify({ tenant: `t_${i}`, flow: 'support', lang: i % 2 ? 'hi-IN' : 'en-IN' }),
      `${f.number.int({ min: 0, max: 900 })}`,
      `wss://stream.caly.ai/v1/calls/${sid}?token=${f.string.alphanumeric(24)}`,
      `call-attempt`,
      `CallSid=${sid}&Status=${statuses[i % statuses.length]}`,
    );
  }
  return out.map((value) => ({ group: 'exotel', value }));
}

/** Product titles as shops write them: inches, feet, trademarks, ampersands, brackets, pipes. */
const PRODUCTS = [
  `Levi's 501® Original Fit Men's Jeans (32" x 34")`,
  `Samsung 55" Class QLED 4K Q60C | Smart TV (2023)`,
  `Ben & Jerry's Half Baked Ice Cream, 16 oz`,
  `USB-C to HDMI Adapter [4K@60Hz] - Aluminium, 15 cm`,
  `3/4" x 10' PEX-A Pipe; Red (Hot Water)`,
  `Johnson & Johnson Baby Shampoo — 500 ml (Pack of 2)`,
  `"The Select Collection" Blu-ray Box Set (Region B)`,
  `Union Jack Cushion Cover 45x45 cm & Insert`,
  `Drop-Leaf Dining Table, Oak (Seats 4–6)`,
  `Order-by-Phone Gift Card: ₹500 / ₹1000 / ₹2000`,
  `Apple iPhone 15 Pro (256 GB) – Natural Titanium`,
  `Nike Air Max 90 "Infrared" — UK 9 / EU 44`,
  `Dr. Martens 1460 8-Eye Boot (Smooth Leather) <Black>`,
  `M&M's Peanut Chocolate Candy, Sharing Size; 10.7 oz Bag`,
  `Cat 6 Ethernet Cable 10 ft (Snagless RJ45) - Blue`,
  `Echo Dot (5th Gen, 2022 release) | Charcoal`,
  `Kids' Sleep Sack, 0-6 Months, "Moon & Stars"`,
  `Tom's of Maine Natural Toothpaste, Peppermint (Pack of 3)`,
  `HP 67XL Ink Cartridge — Tri-color; Works with DeskJet 2700 series`,
  `Table Tennis Set: 2 Paddles + 3 Balls & Net`,
  `L'Oréal Paris Revitalift Serum 30ml (1 fl. oz)`,
  `Ping Pong Table Cover, Waterproof 9' x 5'`,
  `Where's Waldo? The Complete Collection (Books 1-7)`,
  `Hello Kitty 50th Anniversary Plush — 12"`,
  `Bosch 18V Drill/Driver Kit w/ 2 Batteries & Charger`,
  `Uno Card Game (Classic) & Uno Flip! Bundle`,
  `SELECT Premium Basmati Rice 5 kg`,
  `Update Your Kitchen: 12-piece Knife Block Set`,
  `Ctrl+Alt+Del Keycap Set (PBT, 104 keys)`,
  `The C++ Programming Language (4th Edition)`,
  `Rock 'n' Roll Jukebox Vinyl Record Display Frame 12" x 12"`,
  `Wüsthof Classic 8" Chef's Knife`,
  `Procter & Gamble Tide Pods, 81 count {Spring Meadow}`,
  `Echo "Hello" Neon Sign, 16 x 8 in — Pink`,
  `Sleep Number 360® c2 Smart Bed; Queen`,
  `Set of 4 Wine Glasses (350 ml) - "Cheers!" Engraved`,
];

/** Support-call prose: what customers and agents type into notes, search boxes and chats. */
const PROSE = [
  `Please select the union plan from the drop-down and order by Friday.`,
  `I'd like to drop my subscription; where do I go?`,
  `Customer said: "I want to update my address & phone number."`,
  `The agent's note (see above) says the refund was processed on 3/12.`,
  `Can you delete my old card and insert the new one?`,
  `We'll have to sleep on it and call back tomorrow; thanks!`,
  `Tom & Jerry's order #4521 — shipped (finally).`,
  `My name is O'Neil, not O'Neal; please fix it.`,
  `Is 5 > 3? Yes, and 2 < 4 too.`,
  `Where's the "cancel" button? I can't find it.`,
  `He said 'or else' and hung up.`,
  `Select one: (a) refund, (b) replacement, (c) store credit.`,
  `The union of both lists gives us 42 names.`,
  `Drop table tennis from the sports list, please.`,
  `Order by price, then by date; show 20 per page.`,
  `From the users' point of view, it's slow.`,
  `Cat food delivery at 5pm; dog food at 6pm.`,
  `I tried ping, then called support | no luck.`,
  `Echo chamber? No — just a bad line, call dropped twice.`,
  `Let's grant them a 10% discount & waive the fee.`,
  `Insert coin, select drink, and wait (about 5 seconds).`,
  `Update: the technician (Raj) will come between 2–4 pm.`,
  `"Where" and "when" are the questions; 'how' comes later.`,
  `Execute the plan by end of day; no exceptions!`,
  `Create a ticket for Mrs. D'Costa — priority: high.`,
  `Please call me at +1 (415) 555-0132 ext. 22.`,
  `The kids' union meeting is on Tue/Thu @ 7:30.`,
  `I was charged twice: $19.99 and $19.99 (same day).`,
  `Reference: INV-2026/04/118; amount ₹1,499.00`,
  `She wrote "select all" but meant "select none".`,
  `Customer asked whether 1=1 promo still applies (buy one, get one).`,
  `The "or" in her email confused me: refund or replace?`,
  `Is it true or false that the order shipped?`,
  `It's 50% off; use code SAVE50 at checkout.`,
  `Wait for delay notice before rebooking (flight AI-202).`,
  `Sleep mode keeps turning on — laptop model HP 14s.`,
  `My kid typed ls and cd into the terminal, now it's broken :(`,
  `Bash the box open? No! Use the tab on the side.`,
  `rm 204, building C; deliveries to the back door`,
  `Tell Ping & Pong (our cats) we'll be home late.`,
  `Attached: invoice (PDF) & receipt (JPG).`,
  `Her message: "can't login... tried 3 times; locked out?"`,
  `A/C not cooling — serviced 02/2026; warranty #W-7781`,
  `We're at 221B Baker St., London NW1 6XE (flat 2).`,
  `<3 thanks so much for the help!!`,
  `Price: 10 < 20 > 5 — confusing label on the shelf.`,
  `Dear Sir/Madam, kindly revert with the status ASAP.`,
  `Please don't "fix" what isn't broken; it's fine as is.`,
  `Our company (Smith & Sons, Ltd.) needs 3 more seats.`,
  `The select committee's report was delayed until June.`,
  `Join us for the union hall dinner — drinks from 6.`,
  `"Having said that", she added, "I'll wait."`,
  `Group by region, then sum the sales per month.`,
  `Delete from my list: milk, eggs, bread.`,
  `Exec summary: churn is down 2% (Q3 vs Q2).`,
  `I need the "where is my order" page; link's dead.`,
  `Tracking no. 1Z999AA10123456784 — status "in transit".`,
  `Can I change the date/time of my appointment?`,
  `Hi! It's me again :) #3 request this week, sorry!`,
  `Sent via iPhone — please excuse typos & brevity.`,
  `Script for the call: greet, verify, resolve, close.`,
  `Please sleep 10 minutes and then retry the payment.`,
  `Union Bank of India, IFSC UBIN0530000 (Andheri branch)`,
  `Agent's comment: customer's wife's phone — call after 6.`,
  `Prefers Hindi; fallback English. Callback at 10:30 a.m.`,
  `'Premium' tier → 'Basic' tier, effective 1st of next month.`,
  `The order (#88) and the refund (#89) don't match; check both.`,
  `Who's on call tonight? Ping me on Slack; I'll be AFK.`,
  `We ran out of 'Cat 5e' cables; use Cat 6 instead.`,
  `If A and B, then C; or if not A, D.`,
  `x = 5; y = 10; total = x + y (for the invoice)`,
  `Fill in the form: name, email & phone, then submit.`,
  `Back & forth for 3 weeks... still no resolution!`,
  `He's "the boss" (his words, not mine).`,
  `email me at priya.d'souza@example.com, thanks`,
  `Q: Can I pay by UPI? A: Yes — UPI/NEFT/IMPS all work.`,
  `My password reset link expired; please resend to my@mail.com.`,
  `Item #12 & #14 missing from the box (order 55-1209).`,
  `There's a 2-for-1 deal on "select" items only.`,
  `Please drop by the office between 9 and 5.`,
  `Sale ends Sunday!!! Don't miss out ;)`,
  `Counting down: 3... 2... 1... go!`,
  `I'm not sure whether "and" or "or" applies to the offer.`,
  `Values like (1, 2, 3) are acceptable in the form.`,
  `"Null and void" is what the lawyer called the contract.`,
  `Replace the filter every 3-6 months (or sooner).`,
  `Notes: waited 45 min @ counter; manager (Anita) apologised.`,
  `Cancel order 7781 — duplicate of 7780; keep 7780.`,
  `What's the difference between "plan A" & "plan B"?`,
  `Kill switch? It's the red button on the left.`,
  `Type "yes" to confirm, or "no" to cancel.`,
  `The sleep study report from Dr. Rao is attached.`,
  `Please remove the 'gift wrap' option from order #3321.`,
  `From: support@caly.ai; To: billing@caly.ai; Subject: refund`,
  `Visit https://www.example.com/help?topic=billing&lang=en for details.`,
  `Use the path Settings > Account > Delete Account.`,
  `C:\\Users\\Priya\\Documents\\invoice.pdf won't open`,
  `echo the customer's concern back to them before answering.`,
  `Why does my bill say "usage (peak)" & "usage (off-peak)"?`,
  `Date range: 01/04/2026 - 30/04/2026; total calls: 1,204`,
  `Thanks!!! :-) You're the best — 5 stars ★★★★★`,
];

function proseValues() {
  const out = PRODUCTS.map((value) => ({ group: 'product', value }));
  for (const value of PROSE) out.push({ group: 'prose', value });
  return out;
}

function benignSet() {
  const seen = new Set();
  const all = [];
  for (const item of [...fakerValues(), ...exotelValues(), ...proseValues()]) {
    if (seen.has(item.value)) continue;
    seen.add(item.value);
    all.push(item);
  }
  return all;
}

module.exports = { benignSet };
