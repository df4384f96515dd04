// Katran's Maglev (its own code, from a Katran checkout) measured the way test/sched/mh-disruption.test.ts
// measures dsrlb's mh, for docs/scale-out.md ("Flows that move when a real comes or goes"). Not part of
// the build or of CI (Katran is not a dependency); run by hand, with KATRAN = a Katran source tree:
//   g++ -O2 -std=c++17 -I "$KATRAN" bench/katran/maglev-compare.cpp "$KATRAN"/katran/lib/{CHHelpers,MaglevBase,MaglevHash,MaglevHashV2,MurmurHash3}.cpp -o /tmp/maglev-compare && /tmp/maglev-compare
// Prints, per ring size and number of reals: the share of ring slots that change owner when one real is
// removed (the middle one) or added, split into the minimum (the slots of the real that left or came)
// and the excess (slots that moved between reals that did not change); then the Maglev paper's
// resilience experiment: 1000 reals, k % of them removed at once.
#include "katran/lib/CHHelpers.h"
#include <cstdio>
#include <set>
#include <vector>

using katran::CHFactory;
using katran::Endpoint;
using katran::HashFunction;

// Reals 0..n-1, weight 1, hashes spaced as Katran's own maglev_integration_test spaces them.
static std::vector<Endpoint> reals(int n, const std::set<int>& skip = {}) {
  std::vector<Endpoint> v;
  for (int i = 0; i < n; i++) {
    if (skip.count(i)) continue;
    Endpoint e;
    e.num = i;
    e.weight = 1;
    e.hash = 10 * i;
    v.push_back(e);
  }
  return v;
}

static double pct(double x, uint32_t m) { return 100.0 * x / m; }

int main() {
  for (auto hf : {HashFunction::Maglev, HashFunction::MaglevV2}) {
    const char* name = hf == HashFunction::Maglev ? "Maglev" : "MaglevV2";
    for (uint32_t m : {4093u, 65537u}) {
      for (int n : {3, 10, 30}) {
        auto ch = CHFactory::make(hf);
        auto r0 = ch->generateHashRing(reals(n), m);
        int gone = n / 2;
        auto r1 = ch->generateHashRing(reals(n, {gone}), m);
        auto r2 = ch->generateHashRing(reals(n + 1), m);
        double minRem = 0, exRem = 0, minAdd = 0, exAdd = 0;
        for (uint32_t i = 0; i < m; i++) {
          if (r0[i] != r1[i]) (r0[i] == gone ? minRem : exRem)++;
          if (r0[i] != r2[i]) (r2[i] == n ? minAdd : exAdd)++;
        }
        std::printf("%s ring %u, %d reals: remove one: %.2f %% (minimum %.2f %%, excess +%.2f %%); add one: %.2f %% (minimum %.2f %%, excess +%.2f %%)\n",
                    name, m, n, pct(minRem + exRem, m), pct(minRem, m), pct(exRem, m), pct(minAdd + exAdd, m), pct(minAdd, m), pct(exAdd, m));
      }
    }
  }
  const int N = 1000;
  for (uint32_t m : {65537u, 655373u}) {
    for (int k : {1, 2, 5, 10}) {
      std::set<int> removed;
      for (int i = 0; i < N * k / 100; i++) removed.insert(i * 100 / k);
      auto ch = CHFactory::make(HashFunction::Maglev);
      auto r0 = ch->generateHashRing(reals(N), m);
      auto r1 = ch->generateHashRing(reals(N, removed), m);
      double must = 0, extra = 0;
      for (uint32_t i = 0; i < m; i++) {
        if (r0[i] != r1[i]) (removed.count(r0[i]) ? must : extra)++;
      }
      std::printf("paper's experiment, Katran Maglev ring %u, %d %% of %d reals removed: %.2f %% changed (the removed reals' %.2f %%, others +%.2f %%)\n",
                  m, k, N, pct(must + extra, m), pct(must, m), pct(extra, m));
    }
  }
  return 0;
}
