// Scenarios against the demo shop (lib/local/demo-shop.ts) that several tests run.

/** Log in, capture the token and a header, and send both to the orders API with its checks. */
export function loginScenario() {
  return {
    flows: [
      {
        steps: [
          {
            name: 'login',
            method: 'POST',
            path: '/login',
            json: { user: 'user-{{ $vu }}' },
            capture: { token: { json: '$.data.token' }, session: { header: 'x-session' } },
            checks: [{ status: 200 }],
          },
          {
            name: 'orders',
            path: '/orders',
            headers: { authorization: 'Bearer {{ token }}', 'x-session': '{{ session }}' },
            checks: [
              { status: 200 },
              { json: '$.orders[0].id', equals: 7 },
              { name: 'fast', latencyUnder: 2000 },
            ],
          },
        ],
      },
    ],
  };
}
