using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Meta.ComputeAccess.Testing;

/// <summary>
/// A browser-like HTTP client for page tests: keeps cookies, follows no redirects on its own (tests check them),
/// and posts forms with the antiforgery token read from the page, as a browser would.
/// </summary>
public sealed partial class PortalClient : IDisposable
{
    private readonly HttpClient http;

    public PortalClient(PortalFactory factory) =>
        http = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public HttpClient Http => http;

    public async Task<HttpResponseMessage> GetAsync(string url) => await http.GetAsync(new Uri(url, UriKind.Relative));

    /// <summary>GETs a page and returns its HTML, failing unless the answer is 200.</summary>
    public async Task<string> GetPageAsync(string url)
    {
        using var response = await GetAsync(url);
        var html = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"GET {url} answered {(int)response.StatusCode} {response.Headers.Location}");
        }
        return html;
    }

    /// <summary>Loads <paramref name="formPage"/>, then posts <paramref name="fields"/> with its antiforgery token to <paramref name="action"/> (default: the same page).</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string formPage, IEnumerable<KeyValuePair<string, string>> fields, string? action = null)
    {
        var html = await GetPageAsync(formPage);
        var token = AntiforgeryToken(html) ?? throw new InvalidOperationException($"{formPage} has no antiforgery token");
        using var content = new FormUrlEncodedContent(fields.Append(new("__RequestVerificationToken", token)));
        return await http.PostAsync(new Uri(action ?? formPage, UriKind.Relative), content);
    }

    public Task<HttpResponseMessage> PostFormAsync(string formPage, object fields, string? action = null) =>
        PostFormAsync(formPage, ToPairs(fields), action);

    /// <summary>Signs in through the real login page; fails the test unless the portal redirects to the dashboard.</summary>
    public async Task SignInAsync(string email, string password = TestUsers.Password)
    {
        using var response = await PostFormAsync("/Account/Login", new Dictionary<string, string>
        {
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        });
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"Sign-in of {email} failed: {(int)response.StatusCode}");
        }
    }

    public static string? AntiforgeryToken(string html) =>
        TokenPattern().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value) : null;

    private static IEnumerable<KeyValuePair<string, string>> ToPairs(object fields) =>
        fields is IEnumerable<KeyValuePair<string, string>> pairs
            ? pairs
            : fields.GetType().GetProperties().Select(p => new KeyValuePair<string, string>(p.Name.Replace('_', '.'), Convert.ToString(p.GetValue(fields), System.Globalization.CultureInfo.InvariantCulture) ?? ""));

    public void Dispose() => http.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
