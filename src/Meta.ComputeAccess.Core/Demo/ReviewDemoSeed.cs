using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Demo;

/// <summary>
/// A closed call in review: two proposals in review (one with both reviews in, one waiting for Kenji's), two submitted
/// proposals still to screen, a pool with bids and keywords, and a third reviewer at Lakeside whose same-institution
/// conflicts with Amara's proposals are detected. With it an admin can screen, auto-assign, rank, decide and release,
/// the two demo reviewers can review, and Amara or Lukas can accept an award.
/// </summary>
public sealed class ReviewDemoSeed(PortalDbContext db, ReviewerPool pool, TimeProvider clock) : IDemoSeedStep
{
    public const string CallSlug = "spring-call-2027";

    public int Order => 20;

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        // The people are DemoSeeder's (printed by the start command); Inês is Lakeside staff, so her conflicts show.
        var people = await db.Users.ToDictionaryAsync(u => u.Email!, u => u.Id, cancellationToken);
        var ines = people["ines.duarte@lakeside.example.edu"];
        var mei = people["mei.chen@harbour.example.edu"];
        var admin = people["admin@example.org"];
        var rosa = people["rosa.martinez@northfield.example.edu"];
        var kenji = people["kenji.watanabe@tokai.example.ac.jp"];
        var amara = people["amara.okafor@lakeside.example.edu"];
        var lukas = people["lukas.schmidt@hafen.example.de"];
        var clusters = await db.Clusters.ToDictionaryAsync(c => c.Slug, c => c.Id, cancellationToken);
        var teton = clusters["grand-teton"];
        var mtia = clusters["mtia"];

        var opened = now.AddDays(-60);
        var closes = now.AddDays(-20);
        var call = Call.Create("Spring 2027 Call for Foundation-Model Research", CallSlug, opened);
        call.SetTexts(call.Title,
            "Compute for **open foundation-model research**: training, evaluation and efficiency work whose results are released openly.",
            "Principal investigators at universities and non-profit research institutes.");
        call.SetSchedule(CallKind.Fixed, opened, closes, DateOnly.FromDateTime(now.UtcDateTime.AddMonths(1)), DateOnly.FromDateTime(now.UtcDateTime.AddMonths(13)), "UTC");
        call.SetReview(2, ReviewMode.SingleBlind);
        call.OfferCluster(teton, 400_000m, 5_000m, 100_000m);
        call.OfferCluster(mtia, 150_000m, 2_000m, 50_000m);
        call.AddCriterion("Scientific merit", "Is the question important and the approach sound?", 50m);
        call.AddCriterion("Feasibility", "Is the compute estimate credible and the team ready?", 30m);
        call.AddCriterion("Openness", "Will weights, data and code be released openly?", 20m);
        call.Open(opened);
        db.Calls.Add(call);

        var retrieval = Submitted(call, amara, "Multilingual retrieval-augmented models for African news archives",
            "We build **retrieval-augmented language models** over 30 years of digitised news in Hausa, Yoruba, Swahili and Amharic, and release the index, the models and an evaluation suite for factual question answering in these languages.",
            ["retrieval", "multilingual nlp", "low-resource languages"], "Natural language processing",
            [new RequestedHours(teton, 40_000m, 25_000m), new RequestedHours(mtia, 8_000m, 0m)], opened.AddDays(10));
        var sparse = Submitted(call, lukas, "Efficient sparse attention for long scientific documents",
            "We train **sparse-attention transformers** that read entire papers with their references (up to 256k tokens) and evaluate them on citation-grounded summarisation; kernels and checkpoints will be released.",
            ["efficient transformers", "long context", "scientific documents"], "Efficient ML and systems",
            [new RequestedHours(teton, 60_000m, 40_000m)], opened.AddDays(15));
        var ocean = Submitted(call, mei, "Graph neural surrogates for ocean circulation",
            "We train **graph neural network surrogates** of a global ocean circulation model on an unstructured mesh, 1,000× faster than the numerical model, and release them for ensemble forecasting.",
            ["graph neural networks", "scientific machine learning", "climate"], "AI for science",
            [new RequestedHours(teton, 30_000m, 20_000m), new RequestedHours(mtia, 10_000m, 5_000m)], opened.AddDays(20));
        var triage = Submitted(call, amara, "Federated fine-tuning for hospital triage notes",
            "We fine-tune **clinical language models** across three hospitals with federated learning, so that no patient note leaves its hospital, and publish the training recipe and evaluation.",
            ["federated learning", "clinical nlp", "privacy"], "Health and biomedicine",
            [new RequestedHours(teton, 20_000m, 10_000m)], opened.AddDays(25),
            // In the safety track: patient notes are personal data, and clinicians annotate them.
            personalData: "De-identified triage notes of three hospitals; they never leave the hospitals (federated learning), only model updates with differential privacy do.",
            humanSubjects: "Twelve triage nurses annotate 3,000 notes; each consents in writing, and the study was approved by the hospitals' ethics boards.");
        db.Proposals.AddRange(retrieval, sparse, ocean, triage);
        call.Close(closes);
        call.SetReviewDeadline(now.AddDays(14));

        // Retrieval and sparse attention are screened and in review; ocean and triage wait for screening.
        foreach (var p in new[] { retrieval, sparse })
        {
            p.StartScreening(admin, closes.AddDays(1));
            db.Screenings.Add(Screening.Record(p.Id, true, "", TechnicalCheck.Pass, "", new Dictionary<Guid, decimal>(), admin, closes.AddDays(1)));
            p.SendToReview(admin, closes.AddDays(1), "Screening passed");
        }

        var rosaPool = ReviewerPoolMember.Create(call.Id, rosa, 6, closes);
        rosaPool.UpdateProfile(["retrieval", "multilingual nlp", "low-resource languages", "evaluation"], 6);
        var kenjiPool = ReviewerPoolMember.Create(call.Id, kenji, 6, closes);
        kenjiPool.UpdateProfile(["efficient transformers", "long context", "graph neural networks", "scientific machine learning"], 6);
        var inesPool = ReviewerPoolMember.Create(call.Id, ines, 1, closes);
        inesPool.UpdateProfile(["clinical nlp", "efficient transformers", "privacy"], 1);
        db.ReviewerPool.AddRange(rosaPool, kenjiPool, inesPool);

        var bidAt = closes.AddDays(2);
        db.ReviewBids.AddRange(
            ReviewBid.Place(call.Id, retrieval.Id, rosa, Bid.Eager, bidAt),
            ReviewBid.Place(call.Id, ocean.Id, rosa, Bid.Willing, bidAt),
            ReviewBid.Place(call.Id, triage.Id, rosa, Bid.Neutral, bidAt),
            ReviewBid.Place(call.Id, retrieval.Id, kenji, Bid.Willing, bidAt),
            ReviewBid.Place(call.Id, sparse.Id, kenji, Bid.Eager, bidAt),
            ReviewBid.Place(call.Id, ocean.Id, kenji, Bid.Eager, bidAt),
            ReviewBid.Place(call.Id, triage.Id, kenji, Bid.Unwilling, bidAt),
            ReviewBid.Place(call.Id, sparse.Id, ines, Bid.Willing, bidAt));

        var assignedAt = closes.AddDays(3);
        var criteria = call.Rubric.OrderBy(c => c.Position).Select(c => c.Id).ToList();
        var rosaOnRetrieval = Assign(call, retrieval, rosa, admin, assignedAt);
        var kenjiOnRetrieval = Assign(call, retrieval, kenji, admin, assignedAt);
        var kenjiOnSparse = Assign(call, sparse, kenji, admin, assignedAt);
        var inesOnSparse = Assign(call, sparse, ines, admin, assignedAt);

        SubmitReview(retrieval, rosaOnRetrieval, criteria, [5, 4, 5], 8, 3, new() { [teton] = 36_000m, [mtia] = 8_000m },
            "A valuable resource for languages with almost no retrieval benchmarks. The index construction plan is clear; please say more about de-duplication of syndicated articles.",
            "Strong team; I know their earlier Swahili QA work.", 1, 2, now.AddDays(-5));
        kenjiOnRetrieval.SaveDraft(new ReviewContent(criteria.ToDictionary(c => c, _ => (int?)4), 7, null, new Dictionary<Guid, decimal?>(),
            "Draft: the evaluation suite is the strongest part.", ""), Limits(criteria, retrieval), true, now.AddDays(-2));
        SubmitReview(sparse, kenjiOnSparse, criteria, [4, 4, 4], 7, 3, new() { [teton] = 50_000m },
            "Convincing motivation and a credible compute plan. The ablation grid could be smaller: consider fixing the sparsity pattern after the first sweep.",
            "Ask for the kernel benchmark numbers before awarding the full request.", 1, 2, now.AddDays(-6));
        SubmitReview(sparse, inesOnSparse, criteria, [3, 3, 4], 5, 2, new() { [teton] = 40_000m },
            "Interesting direction; the comparison with retrieval-based long-context baselines is missing and should be added.",
            "", 2, 2, now.AddDays(-4));

        await db.SaveChangesAsync(cancellationToken);
        // Inês works at Lakeside, like Amara: her conflicts with Amara's proposals are found and stored with their reasons.
        await pool.DetectAsync(call.Id, cancellationToken);
    }

    private static ReviewLimits Limits(IReadOnlyList<Guid> criteria, Proposal p) =>
        new(criteria, p.Requests.ToDictionary(r => r.ClusterId, r => r.RequestedHours), new Dictionary<Guid, decimal>());

    private ProposalReview Assign(Call call, Proposal proposal, Guid reviewer, Guid admin, DateTimeOffset at)
    {
        proposal.RecordReviewerChange(true, admin, at);
        var review = ProposalReview.Assign(call.Id, proposal.Id, reviewer, admin, null, at);
        db.Reviews.Add(review);
        return review;
    }

    private static void SubmitReview(Proposal proposal, ProposalReview review, IReadOnlyList<Guid> criteria, int[] scores, int overall, int confidence,
        Dictionary<Guid, decimal> hours, string forApplicants, string confidential, int submitted, int assigned, DateTimeOffset at)
    {
        var content = new ReviewContent(
            criteria.Select((c, i) => (c, scores[i])).ToDictionary(x => x.c, x => (int?)x.Item2),
            overall, confidence, hours.ToDictionary(h => h.Key, h => (decimal?)h.Value), forApplicants, confidential);
        review.Submit(content, Limits(criteria, proposal), null, true, at);
        proposal.RecordReviewSubmitted(submitted, assigned, review.ReviewerUserId, at);
    }

    private static Proposal Submitted(Call call, Guid pi, string title, string abstractText, string[] keywords, string field, RequestedHours[] requests, DateTimeOffset at,
        string personalData = "", string humanSubjects = "")
    {
        var p = Proposal.StartDraft(call, pi, title, at.AddDays(-2));
        p.UpdateDraft(new ProposalContent(title, abstractText, keywords, field,
            "Training runs are sized from pilot experiments on 8 GPUs, scaled to the full data; the request adds 15 % for failed runs and evaluation.",
            personalData.Length > 0, personalData, false, "", "Code Apache-2.0; weights and data CC BY 4.0.",
            PlannedOutputs.Papers | PlannedOutputs.OpenWeights | PlannedOutputs.Code, "", requests, humanSubjects.Length > 0, humanSubjects), call, at.AddDays(-1));
        p.Submit(call, pi, at);
        return p;
    }
}
