"""rows.py FILE N [plausible]: N firms' 2025 figures as an import CSV (the same seed every time).
With `plausible`, a firm's value added is lowered where needed so that its energy intensity is at
least a fifth of its industry's baseline: no row is then held by the abnormal-data check's
intensity floor (a tenth of the baseline), and every row can be approved without a check record."""
import random, sys
random.seed(11)
alpha = "0123456789ABCDEFGHJKLMNPQRTUWXY"; w = [1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28]
def uscc(n):
    s = "91500000MA" + "%07d" % n
    return s + alpha[(31 - sum(alpha.index(c) * w[i] for i, c in enumerate(s)) % 31) % 31]
plausible = len(sys.argv) > 3 and sys.argv[3] == "plausible"
baselines = {"3670": 0.08, "2614": 1.60, "3982": 0.06, "1310": 0.25, "3311": 0.25, "2929": 0.30}
carriers = ["electricity_kwh","raw_coal_t","washed_coal_t","coke_t","crude_oil_t","fuel_oil_t","gasoline_t","kerosene_t","diesel_t","lpg_t","natural_gas_m3","heat_gj"]
with open(sys.argv[1], "w") as f:
    f.write("uscc,name,industry_code,district,period,assessed_on,value_added_10k_cny," + ",".join(carriers) + ",waste_generated_t,waste_stock_utilized_t,waste_utilized_t\n")
    for n in range(int(sys.argv[2])):
        e = [""] * 12; e[0] = str(random.randint(10**5, 9*10**7)); e[10] = str(random.randint(0, 2*10**6))
        g = random.randint(0, 9000); u = random.randint(0, g)
        industry = ["3670","2614","3982","1310","3311","2929"][n % 6]
        va = random.randint(500, 200000)
        if plausible:
            tce = int(e[0]) * 0.1229 / 1000 + int(e[10]) * 1.2143 / 1000
            va = max(500, min(va, int(tce / (0.2 * baselines[industry]))))
        f.write(",".join([uscc(n), "企业%d" % n, industry, ["渝北区","长寿区","璧山区","江北区"][n % 4], "2025", "2026-03-31", str(va)] + e + [str(g), "0", str(u)]) + "\n")
