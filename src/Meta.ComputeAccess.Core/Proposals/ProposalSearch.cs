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

    /// <summary>
    /// Best match first (rank, then id, both descending), starting after the position <paramref name="from"/> (its rank
    /// and id), or ending before it when <paramref name="backward"/> (then in reverse order: the caller reverses the page).
    /// </summary>
    public static IOrderedQueryable<Proposal> RankedFrom(this IQueryable<Proposal> proposals, string text, (float Rank, Guid Id)? from, bool backward)
    {
        if (from is { } f)
        {
            proposals = backward
                ? proposals.Where(p => EF.Functions.GreaterThan(
                    ValueTuple.Create(EF.Property<NpgsqlTsVector>(p, VectorProperty).Rank(EF.Functions.WebSearchToTsQuery("english", text)), p.Id), ValueTuple.Create(f.Rank, f.Id)))
                : proposals.Where(p => EF.Functions.LessThan(
                    ValueTuple.Create(EF.Property<NpgsqlTsVector>(p, VectorProperty).Rank(EF.Functions.WebSearchToTsQuery("english", text)), p.Id), ValueTuple.Create(f.Rank, f.Id)));
        }
        return backward
            ? proposals.OrderBy(p => EF.Property<NpgsqlTsVector>(p, VectorProperty).Rank(EF.Functions.WebSearchToTsQuery("english", text))).ThenBy(p => p.Id)
            : proposals.OrderByDescending(p => EF.Property<NpgsqlTsVector>(p, VectorProperty).Rank(EF.Functions.WebSearchToTsQuery("english", text))).ThenByDescending(p => p.Id);
    }

    /// <summary>Each proposal with its rank for <paramref name="text"/> (the value <see cref="RankedFrom"/> orders by).</summary>
    public static IQueryable<RankedProposal> WithRank(this IQueryable<Proposal> proposals, string text) =>
        proposals.Select(p => new RankedProposal { Proposal = p, Rank = EF.Property<NpgsqlTsVector>(p, VectorProperty).Rank(EF.Functions.WebSearchToTsQuery("english", text)) });
}

/// <summary>A proposal and its full-text rank for a search (init properties, so that a query can compose on it).</summary>
public sealed class RankedProposal
{
    public required Proposal Proposal { get; init; }

    public required float Rank { get; init; }
}
