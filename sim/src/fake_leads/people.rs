//! The simulated people: names, emails, phone numbers and places by locale, with accents.

use rand::Rng;
use rand::rngs::StdRng;

use super::pick;

/// Where a person lives decides the shape of their names, phone number and address.
pub(super) struct Locale {
    pub(super) first_names: &'static [&'static str],
    pub(super) last_names: &'static [&'static str],
    /// Country calling code and the leading digits of a mobile number.
    phone_prefix: &'static str,
    /// Digits after the prefix.
    phone_digits: u32,
    places: &'static [(&'static str, &'static str)],
    companies: &'static [&'static str],
}

pub(super) const LOCALES: &[Locale] = &[
    Locale {
        first_names: &["José", "María", "Begoña", "Iñigo"],
        last_names: &["Muñoz", "García", "Peña", "Ibáñez"],
        phone_prefix: "+346",
        phone_digits: 8,
        places: &[
            ("Sevilla", "41001"),
            ("A Coruña", "15001"),
            ("Córdoba", "14002"),
        ],
        companies: &["Café Olé SL", "Energía Solar Andaluza SA"],
    },
    Locale {
        first_names: &["François", "Chloé", "Hélène", "Loïc"],
        last_names: &["Lefèvre", "Dubois", "Bérenger", "Faÿ"],
        phone_prefix: "+336",
        phone_digits: 8,
        places: &[
            ("Besançon", "25000"),
            ("Orléans", "45000"),
            ("Nîmes", "30000"),
        ],
        companies: &["Façades & Toitures SARL", "Élan Vert SAS"],
    },
    Locale {
        first_names: &["Łukasz", "Małgorzata", "Wojciech", "Zofia"],
        last_names: &["Kowalski", "Wiśniewska", "Żak", "Nowak"],
        phone_prefix: "+485",
        phone_digits: 8,
        places: &[
            ("Łódź", "90-001"),
            ("Kraków", "30-001"),
            ("Gdańsk", "80-001"),
        ],
        companies: &["Żubr Logistyka sp. z o.o.", "Słoneczna Energia"],
    },
    Locale {
        first_names: &["Søren", "Åse", "Mette", "Jørgen"],
        last_names: &["Kierkegaard", "Ødegaard", "Nørgaard", "Hansen"],
        phone_prefix: "+452",
        phone_digits: 7,
        places: &[("København", "1050"), ("Århus", "8000"), ("Odense", "5000")],
        companies: &["Nordlys ApS", "Grøn Energi A/S"],
    },
    Locale {
        first_names: &["Zoë", "Siobhán", "Oliver", "Amelia"],
        last_names: &["Brontë", "O'Brien", "Smith", "Taylor"],
        phone_prefix: "+447",
        phone_digits: 9,
        places: &[
            ("Haworth", "BD22 8DR"),
            ("Leeds", "LS1 4AP"),
            ("Bristol", "BS1 5TR"),
        ],
        companies: &["Brontë & Daughters Ltd", "Yorkshire Solar Co"],
    },
    Locale {
        first_names: &["Jürgen", "Björn", "Anneliese", "Lena"],
        last_names: &["Müller", "Groß", "Schäfer", "Köhler"],
        phone_prefix: "+4917",
        phone_digits: 8,
        places: &[
            ("Düsseldorf", "40213"),
            ("München", "80331"),
            ("Köln", "50667"),
        ],
        companies: &["Müller & Söhne GmbH", "Sonnenschein Dachbau GmbH"],
    },
    Locale {
        first_names: &["Chris", "Ashley", "DeShawn", "Mei"],
        last_names: &["Johnson", "Nguyễn", "O'Connor", "Martínez"],
        // 555-01xx numbers are reserved for fiction in North America.
        phone_prefix: "+1512555010",
        phone_digits: 1,
        places: &[
            ("Austin", "78701"),
            ("San José", "95113"),
            ("Portland", "97201"),
        ],
        companies: &["Lone Star Roofing LLC", "Bay Area Batteries Inc"],
    },
];

const EMAIL_DOMAINS: &[&str] = &["example.com", "example.net", "example.org"];

pub(super) const JOB_TITLES: &[&str] = &[
    "Head of Marketing",
    "Directora Comercial",
    "Geschäftsführer",
    "Responsable achats",
    "Facility Manager",
];

pub(super) struct Person {
    pub(super) first: &'static str,
    pub(super) last: &'static str,
    pub(super) email: String,
    pub(super) work_email: String,
    pub(super) phone: String,
    pub(super) city: &'static str,
    pub(super) zip_code: &'static str,
    pub(super) company: &'static str,
}

impl Person {
    pub(super) fn random(rng: &mut StdRng) -> Person {
        let locale = pick(rng, LOCALES);
        let first = *pick(rng, locale.first_names);
        let last = *pick(rng, locale.last_names);
        let (first_ascii, last_ascii) = (ascii_fold(first), ascii_fold(last));
        let local_part = match rng.random_range(0..3) {
            0 => format!("{first_ascii}.{last_ascii}"),
            1 => format!("{first_ascii}{last_ascii}{}", rng.random_range(1..100)),
            _ => format!("{}.{last_ascii}", &first_ascii[..1]),
        };
        let email = format!("{local_part}@{}", pick(rng, EMAIL_DOMAINS));
        let company = *pick(rng, locale.companies);
        let company_word = company.split_whitespace().next().unwrap_or(company);
        let work_email = format!(
            "{first_ascii}.{last_ascii}@{}.example",
            ascii_fold(company_word)
        );
        let phone = format!(
            "{}{}",
            locale.phone_prefix,
            rng.random_range(10_u64.pow(locale.phone_digits - 1)..10_u64.pow(locale.phone_digits))
        );
        let &(city, zip_code) = pick(rng, locale.places);
        Person {
            first,
            last,
            email,
            work_email,
            phone,
            city,
            zip_code,
            company,
        }
    }

    pub(super) fn full_name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }
}

/// Lowercase ASCII letters and digits for an email address: `Łukasz Ødegaard` → `lukasz`, `odegaard`.
pub(super) fn ascii_fold(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .filter_map(|character| {
            Some(
                match character {
                    'a'..='z' | '0'..='9' => return Some(character.to_string()),
                    'á' | 'à' | 'â' | 'ä' | 'å' | 'ã' => "a",
                    'é' | 'è' | 'ê' | 'ë' | 'ễ' => "e",
                    'í' | 'ì' | 'î' | 'ï' => "i",
                    'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' => "o",
                    'ú' | 'ù' | 'û' | 'ü' => "u",
                    'ñ' | 'ń' => "n",
                    'ç' | 'ć' => "c",
                    'ł' => "l",
                    'ś' | 'ş' => "s",
                    'ż' | 'ź' => "z",
                    'ÿ' => "y",
                    'ß' => "ss",
                    'æ' => "ae",
                    _ => return None,
                }
                .to_string(),
            )
        })
        .collect()
}
