using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Demo;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Terms;

/// <summary>
/// Demo terms: version 1 of the terms of use, accepted by every demo person (so the demo tour is not stopped by the
/// terms page), and award terms for the demo's spring call, which its PIs accept with an award.
/// </summary>
public sealed class TermsDemoSeed(PortalDbContext db, PortalTerms terms) : IDemoSeedStep
{
    public const string TermsOfUse = """
        These terms apply to everyone who uses the Meta Compute Access portal.

        1. **Honest applications.** What you write in a proposal, a review or your profile is true to the best of your knowledge.
        2. **Confidentiality.** Reviewers keep proposals and reviews confidential and use them only to review.
        3. **Acceptable use.** Compute granted through the portal is used only for the work described in the proposal, never to
           develop weapons, surveillance of individuals or other uses the program's acceptable-use policy forbids.
        4. **Your data.** The portal keeps your profile, proposals, reviews and sign-in history to run the program; see the
           program's privacy notice.
        """;

    public const string AwardTerms = """
        1. **Open outputs.** Papers are published open access; code and model weights are released under an open licence
           within 12 months of the allocation's end, unless the safety review set other conditions.
        2. **Acknowledgement.** Publications acknowledge "compute provided by the Meta Compute Access program".
        3. **Acceptable use.** The hours are used only for the proposed work, by the team named on the allocation.
        4. **Report.** The PI sends a short report of results within 3 months of the allocation's end.
        """;

    public int Order => 95;

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        var admin = db.Users.Where(u => u.Email == DemoSeeder.People[0].Account.Email).Select(u => u.Id).Single();
        await terms.PublishAsync(TermsKind.TermsOfUse, null, TermsOfUse, "First version", admin, cancellationToken);
        var spring = await db.Calls.Where(c => c.Slug == ReviewDemoSeed.CallSlug).Select(c => c.Id).SingleAsync(cancellationToken);
        await terms.PublishAsync(TermsKind.AwardTerms, spring, AwardTerms, "First version", admin, cancellationToken);
        await terms.RecordAcceptedAsync(await db.Users.Select(u => u.Id).ToListAsync(cancellationToken), cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
    }
}
