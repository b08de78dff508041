// A light Persian stemmer for keyword search: it folds the inflections people type differently for the same word
// (کتاب / کتاب‌ها / کتابهای, بزرگ‌تر / بزرگترین, می‌روم / نمی‌روم) onto one form. It is applied identically to the
// indexed text and to queries, so a form only has to be consistent, not a dictionary lemma. It is deliberately
// conservative: an attached ending is removed only where few Persian words merely end in those letters.
//
// Rules, in order (the word is already normalised: Persian yeh/kaf, no tatweel):
//  1. Words in KEEP are returned as they are (تنها, کامپیوتر, پارامتر, زبان, ...: they only end like a suffix).
//  2. ZWNJ-joined affixes: a leading می / نمی part is dropped (می‌روم, نمی‌روم -> روم); trailing parts that are
//     suffixes (ها, های, هایشان, تر, ترین, ی, ای, ام, اش, ات, مان, ...) are dropped (کتاب‌هایشان -> کتاب,
//     خانه‌ای -> خانه, بزرگ‌ترین -> بزرگ).
//  3. Otherwise one attached ending, the first that applies:
//     ها and its possessive/indefinite forms (کتابهای -> کتاب, stem of at least 2 letters);
//     ترین / تر (بزرگترین -> بزرگ, at least 3 letters: دفتر, دختر stay);
//     ات (تغییرات -> تغییر, at least 3 letters);
//     ان (کاربران -> کاربر, at least 4 letters, so زمان, زبان, ایران stay; پرندگان -> پرنده, دانشجویان -> دانشجو).
//  4. A result under 2 letters, or a stopword (بهتر -> به), keeps the word itself.
// What it does not do: attached می (میز, میوه, میلیون start so), attached possessives (کتابم, نقاش), verb
// endings (روم stays روم) or irregular stems (رفتن and می‌روم never meet), broken Arabic plurals (کتب, اسناد).
// ZWNJs are removed from the result, so the closed and the joined spelling meet (نرم‌افزار, نرمافزار).
import { isStopword } from "../stopwords.ts";

const ZWNJ = "\u200C";

const VERB_PREFIXES = new Set(["می", "نمی"]);

const PLURAL_ENDINGS = ["هایشان", "هایتان", "هایمان", "هایم", "هایت", "هایش", "هایی", "های", "ها"];

// Parts that follow a ZWNJ and only inflect the word before them.
const JOINED_SUFFIXES = new Set([...PLURAL_ENDINGS, "ترین", "تر", "ترها", "ی", "ای", "ام", "ات", "اش", "ایم", "اید", "اند", "مان", "تان", "شان"]);

// Words that end in a suffix's letters without carrying it.
const KEEP = new Set(
  `تنها اینها آنها بها رها کامپیوتر کیلومتر سانتیمتر میلیمتر متر لیتر فیلتر تئاتر پوستر دفتر دختر کبوتر انگشتر اختر بستر
چتر شتر دکتر کاراکتر پارامتر اسکنر کنتر رجیستر کلاستر مستر اسکوتر ساعات حیات ذات صفات اوقات زبان زمان ایران تهران
خیابان میدان آسمان باران جوان جریان پایان امکان بیان میزان ارگان رایگان داستان استان بیمارستان دبیرستان تابستان زمستان
انگلستان پاکستان افغانستان کردستان گلستان ترکمنستان عربستان انسان مهمان قربان نشان سامان درمان فرمان ایمان پیمان
آبان گیلان کرمان اصفهان همدان کاشان سلمان عثمان سلطان قرآن`.split(/\s+/),
);

const letters = (w: string) => [...w].length;

function stripAttached(w: string): string {
  for (const ending of PLURAL_ENDINGS) if (w.endsWith(ending) && letters(w) - letters(ending) >= 2) return w.slice(0, -ending.length);
  for (const ending of ["ترین", "تر"]) if (w.endsWith(ending) && letters(w) - letters(ending) >= 3) return w.slice(0, -ending.length);
  if (w.endsWith("ات") && letters(w) >= 5) return w.slice(0, -2);
  if (w.endsWith("ان") && letters(w) >= 6) {
    const stem = w.slice(0, -2);
    if (stem.endsWith("گ")) return `${stem.slice(0, -1)}ه`; // پرندگان -> پرنده
    if (/[اوی]ی$/.test(stem)) return stem.slice(0, -1); // دانشجویان -> دانشجو, آقایان -> آقا
    return stem;
  }
  return w;
}

export function stemPersian(word: string): string {
  const closed = word.replaceAll(ZWNJ, "");
  if (KEEP.has(closed)) return closed;
  const parts = word.split(ZWNJ).filter(Boolean);
  if (parts.length > 1 && VERB_PREFIXES.has(parts[0]!)) parts.shift();
  let joinedSuffix = false;
  while (parts.length > 1 && JOINED_SUFFIXES.has(parts.at(-1)!)) {
    parts.pop();
    joinedSuffix = true;
  }
  const base = parts.join("");
  const stem = joinedSuffix || KEEP.has(base) ? base : stripAttached(base);
  return letters(stem) < 2 || isStopword(stem) ? closed : stem;
}
