using Microsoft.EntityFrameworkCore;
using NpgsqlTypes;

namespace Meta.ComputeAccess.Proposals;

/// <summary>
/// Full-text search over title, keywords and abstract: a stored tsvector column with a GIN index, queried with
/// websearch syntax ("protein diffusion", "speech -english", "\"low resource\"").
/// </summary>
public static class ProposalSearch
{
    /// <summary>The shadow property holding the tsvector (configured in ProposalConfiguration).</summary>
    public const string VectorProperty = "SearchVector";

    public static IQueryable<Proposal> Matching(this IQueryable<Proposal> proposals, string text) =>
        proposals.Where(p => EF.Property<NpgsqlTsVector>(p, VectorProperty).Matches(EF.Functions.WebSearchToTsQuery("english", text)));

    public static IOrderedQueryable<Proposal> OrderByRelevance(this IQueryable<Proposal> proposals, string text) =>
        proposals.OrderByDescending(p => EF.Property<NpgsqlTsVector>(p, VectorProperty).Rank(EF.Functions.WebSearchToTsQuery("english", text)));
}
