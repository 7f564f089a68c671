namespace Meta.ComputeAccess.Review;

public enum TechnicalCheck
{
    Pass,
    Conditional,
    Fail,
}

/// <summary>
/// The admin's screening of one proposal: eligibility (pass or fail with a reason) and technical feasibility
/// (pass, conditional or fail, with a note and optional caps on hours per cluster). Caps bound reviewers'
/// recommendations and the default award.
/// </summary>
public sealed class Screening
{
    private readonly List<TechnicalCap> caps = [];

    public Guid ProposalId { get; private set; }

    public bool Eligible { get; private set; }

    public string EligibilityReason { get; private set; } = "";

    public TechnicalCheck Technical { get; private set; }

    public string TechnicalNote { get; private set; } = "";

    public Guid ScreenedByUserId { get; private set; }

    public DateTimeOffset ScreenedAt { get; private set; }

    public IReadOnlyList<TechnicalCap> Caps => caps;

    public bool Passed => Eligible && Technical != TechnicalCheck.Fail;

    private Screening()
    {
    }

    public static Screening Record(Guid proposalId, bool eligible, string eligibilityReason, TechnicalCheck technical, string technicalNote,
        IReadOnlyDictionary<Guid, decimal> caps, Guid admin, DateTimeOffset now)
    {
        eligibilityReason = (eligibilityReason ?? "").Trim();
        technicalNote = (technicalNote ?? "").Trim();
        if (!eligible && eligibilityReason.Length == 0)
        {
            throw new DomainException("Give the reason the proposal is not eligible: the applicants will read it.");
        }
        if (technical != TechnicalCheck.Pass && technicalNote.Length == 0)
        {
            throw new DomainException("Explain a conditional or failed technical check in the note.");
        }
        if (eligibilityReason.Length > 2000 || technicalNote.Length > 2000)
        {
            throw new DomainException("Reasons and notes are limited to 2,000 characters.");
        }
        var screening = new Screening
        {
            ProposalId = proposalId,
            Eligible = eligible,
            EligibilityReason = eligibilityReason,
            Technical = technical,
            TechnicalNote = technicalNote,
            ScreenedByUserId = admin,
            ScreenedAt = now,
        };
        foreach (var (cluster, hours) in caps)
        {
            if (hours < 0 || decimal.Round(hours, 2) != hours)
            {
                throw new DomainException("A technical cap is a non-negative number of hours with at most two decimals.");
            }
            screening.caps.Add(new TechnicalCap(cluster, hours));
        }
        return screening;
    }

    public decimal? CapFor(Guid clusterId) => caps.FirstOrDefault(c => c.ClusterId == clusterId)?.Hours;

    /// <summary>What the applicants are told when screening fails.</summary>
    public string FailureReason() =>
        !Eligible ? "Not eligible: " + EligibilityReason : "Not technically feasible: " + TechnicalNote;
}

public sealed class TechnicalCap
{
    public Guid ClusterId { get; private set; }

    public decimal Hours { get; private set; }

    private TechnicalCap()
    {
    }

    internal TechnicalCap(Guid clusterId, decimal hours)
    {
        ClusterId = clusterId;
        Hours = hours;
    }
}
