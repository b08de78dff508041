// The search form of words (src/search/keyword/): which spellings of one Persian word meet, which words must stay as
// they are, and what a light stemmer cannot do.
import { describe, expect, it } from "vitest";
import { stemPersian } from "../../src/search/keyword/persian-stemmer.ts";
import { keywordQuery, searchForm } from "../../src/search/keyword/search-form.ts";
import { normalizeText } from "../../src/text/normalize.ts";

const form = (text: string) => searchForm(normalizeText(text));

describe("the Persian stemmer", () => {
  it.each([
    ["کتاب", "کتاب"],
    ["کتاب‌ها", "کتاب"],
    ["کتابها", "کتاب"],
    ["کتابهای", "کتاب"],
    ["کتاب‌هایشان", "کتاب"],
    ["کتاب‌هایی", "کتاب"],
    ["بزرگ‌تر", "بزرگ"],
    ["بزرگترین", "بزرگ"],
    ["خانه‌ای", "خانه"],
    ["خانه‌اش", "خانه"],
    ["کاربران", "کاربر"],
    ["دانشجویان", "دانشجو"],
    ["پرندگان", "پرنده"],
    ["تغییرات", "تغییر"],
    ["پارامترها", "پارامتر"],
    ["نرم‌افزار", "نرمافزار"],
    ["نرمافزارها", "نرمافزار"],
  ])("%s -> %s", (word, stem) => {
    expect(stemPersian(word)).toBe(stem);
  });

  it.each(["تنها", "دفتر", "دختر", "کامپیوتر", "پارامتر", "زبان", "زمان", "ایران", "خیابان", "داستان", "ساعات", "میز", "فارسی", "بهتر"])(
    "%s merely ends in a suffix's letters and stays",
    (word) => {
      expect(stemPersian(word)).toBe(word);
    },
  );

  it("drops the ZWNJ-joined verbal prefixes, so می‌روم and نمی‌روم meet; it knows no verb stems, so رفتن does not", () => {
    expect(stemPersian("می‌روم")).toBe("روم");
    expect(stemPersian("نمی‌روم")).toBe("روم");
    expect(stemPersian("رفتن")).not.toBe("روم");
    // An attached می starts words too (میز, میلیون): it is left alone.
    expect(stemPersian("میروم")).toBe("میروم");
  });

  it("never leaves fewer than 2 letters", () => {
    for (const word of ["ها", "رها", "بها", "تر", "ان"]) expect([...stemPersian(word)].length).toBeGreaterThanOrEqual(2);
  });
});

describe("the search form", () => {
  it("reduces Persian the same way on both sides, drops Persian stopwords and diacritics, keeps Latin words and digits", () => {
    expect(form("کتاب‌های فارسی را در XeTeX با ۱۲ صفحه می‌نویسیم")).toBe("کتاب فارسی xetex 12 صفحه نویسیم");
    expect(form("کتابهای")).toBe(form("كتاب")); // Arabic kaf, normalised first
    expect(form("کتابٌ")).toBe("کتاب");
  });

  it("leaves English stemming to PostgreSQL: Latin words go through as typed, lower-cased", () => {
    expect(form("Tables and the TABLE")).toBe("tables and the table");
  });

  it("reads quoted phrases out of a query and still searches their words", () => {
    const q = keywordQuery(normalizeText('ساعت کار «تالار مطالعه» و "opening hours"'));
    expect(q.phrases).toEqual(["تالار مطالعه", "opening hours"]);
    expect(q.stemmed).toBe("ساعت کار تالار مطالعه opening hours");
    expect(q.exact).toBe("ساعت کار تالار مطالعه opening hours");
  });

  it("keeps a long query's eight longest words, in the query's order", () => {
    const q = keywordQuery(normalizeText("ab cdef gh kitabkhaneh ij klmno پ کتابخانه‌ها pq rstuvw xy zzzzz دانشگاه و the abcdefg"));
    expect(q.exact).toBe("cdef kitabkhaneh klmno کتابخانه‌ها rstuvw zzzzz دانشگاه abcdefg");
    expect(q.stemmed).toBe("cdef kitabkhaneh klmno کتابخانه rstuvw zzzzz دانشگاه abcdefg");
    const short = keywordQuery(normalizeText("the gearbox and its oil"));
    expect(short.stemmed).toBe("the gearbox and its oil");
    expect(short.exact).toBe("gearbox oil");
  });
});
