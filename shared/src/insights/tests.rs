use super::*;

fn params(period: &str, from: Option<&str>, to: Option<&str>) -> InsightsParams {
    InsightsParams {
        period: Some(period.into()),
        from: from.map(|d| d.parse().expect("date")),
        to: to.map(|d| d.parse().expect("date")),
        by: None,
        tz: None,
    }
}

#[test]
fn periods_read_and_refuse_with_reasons() {
    assert_eq!(
        params("30d", None, None).read(),
        Ok((Period::Last30Days, Grouping::Campaign))
    );
    assert_eq!(
        InsightsParams::default().read().map(|read| read.0),
        Ok(Period::Last7Days)
    );
    let range = params("custom", Some("2026-11-01"), Some("2026-11-30")).read();
    assert_eq!(
        range.map(|read| read.0.days(NaiveDate::MIN)),
        Ok((
            "2026-11-01".parse().expect("date"),
            "2026-11-30".parse().expect("date")
        ))
    );
    assert_eq!(
        params("custom", Some("2026-11-01"), None).read(),
        Err(InsightsParamError::MissingRange)
    );
    assert_eq!(
        params("7d", Some("2026-11-01"), None).read(),
        Err(InsightsParamError::RangeWithoutCustom)
    );
    assert!(matches!(
        params("custom", Some("2026-11-02"), Some("2026-11-01")).read(),
        Err(InsightsParamError::Backwards { .. })
    ));
    assert_eq!(
        params("custom", Some("2024-01-01"), Some("2025-01-01")).read(),
        Err(InsightsParamError::TooLong { days: 366 + 1 })
    );
    assert_eq!(
        params("90d", None, None).read(),
        Err(InsightsParamError::Period("90d".into()))
    );
    let by_ad = InsightsParams {
        by: Some("adset".into()),
        ..InsightsParams::default()
    };
    assert_eq!(by_ad.read().map(|read| read.1), Ok(Grouping::AdSet));
    let by_budget: Grouping = "answer:budget".parse().expect("an answer column");
    assert_eq!(by_budget.answer_column(), Some("budget"));
    assert_eq!(by_budget.as_str(), "answer:budget");
}

#[test]
fn presets_count_back_from_today_inclusive() {
    let today: NaiveDate = "2026-12-07".parse().expect("date");
    assert_eq!(Period::Today.days(today), (today, today));
    assert_eq!(
        Period::Last7Days.days(today).0,
        "2026-12-01".parse::<NaiveDate>().expect("date")
    );
    assert_eq!(
        Period::Last30Days.days(today).0,
        "2026-11-08".parse::<NaiveDate>().expect("date")
    );
    assert_eq!(Period::Last30Days.next(), Period::Today);
    assert_eq!(
        Grouping::Organic.next(&AnswerColumns::default()),
        Grouping::Campaign
    );
}

#[test]
fn costs_divide_by_each_stage_and_skip_empty_ones() {
    let funnel = Funnel {
        leads: 3,
        contacted: 2,
        won: 0,
        ..Funnel::default()
    };
    let cost = Cost::of(100.0, &funnel);
    assert_eq!(cost.per_lead, Some(33.33));
    assert_eq!(cost.per_contacted, Some(50.0));
    assert_eq!(cost.per_won, None);
    assert_eq!(funnel.share(2), Some(2.0 / 3.0));
    assert_eq!(Funnel::default().share(0), None);
}

#[test]
fn every_bucket_has_a_label() {
    assert_eq!(SPEED_BUCKET_LABELS.len(), SPEED_BUCKET_EDGES.len() + 1);
    assert_eq!(SPEED_BUCKET_EDGES[PAST_FIVE_MINUTES - 1], 300);
}
